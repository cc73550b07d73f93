import { type FormEvent, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { moved } from "@/lib/utils";

import {
  type StepIn,
  type Workflow,
  type WorkflowIn,
  useDeleteWorkflow,
  useRunners,
  useRunWorkflow,
  useSaveWorkflow,
  useWorkflow,
  useWorkflows,
} from "../api/workflows";
import { RunWatch } from "../components/run-watch";
import { StepEditor } from "../components/step-editor";

export function WorkflowListPage() {
  const workflows = useWorkflows();
  return (
    <section className="grid max-w-3xl gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-xl font-semibold">Workflows</h1>
        <Button asChild>
          <Link to="/workflows/new">New workflow</Link>
        </Button>
      </div>
      {workflows.isError ? <Alert>{workflows.error.message}</Alert> : null}
      {workflows.data?.items.length === 0 ? <p className="text-muted-foreground">No workflows yet.</p> : null}
      <ul className="divide-y rounded-md border">
        {workflows.data?.items.map((workflow) => (
          <li key={workflow.id}>
            <Link
              to={`/workflows/${workflow.id}`}
              className="flex flex-wrap items-center gap-2 px-3 py-2 hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            >
              <span className="font-medium">{workflow.name}</span>
              <span className="min-w-0 flex-1 truncate text-sm text-muted-foreground">
                {workflow.steps.map((s) => s.name).join(" → ")}
              </span>
              {workflow.enabled ? null : <Badge variant="outline">disabled</Badge>}
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

const NEW_STEP: StepIn = { name: "", agent_id: null, team_id: null, instruction: "", on_failure: "stop", max_retries: 0 };

function start(workflow: Workflow | undefined): WorkflowIn {
  return {
    name: workflow?.name ?? "",
    description: workflow?.description ?? "",
    enabled: workflow?.enabled ?? true,
    steps: workflow?.steps.map((s) => ({
      name: s.name,
      agent_id: s.agent_id,
      team_id: s.team_id,
      instruction: s.instruction,
      on_failure: s.on_failure,
      max_retries: s.max_retries,
    })) ?? [{ ...NEW_STEP }],
  };
}

function WorkflowForm({ workflow }: { workflow?: Workflow }) {
  const [form, setForm] = useState<WorkflowIn>(() => start(workflow));
  const runners = useRunners();
  const save = useSaveWorkflow(workflow?.id ?? null);
  const navigate = useNavigate();
  const set = (change: Partial<WorkflowIn>) => setForm((old) => ({ ...old, ...change }));
  const setStep = (index: number, step: StepIn) => set({ steps: form.steps.map((s, i) => (i === index ? step : s)) });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(form, { onSuccess: (saved) => void navigate(`/workflows/${saved.id}`, { replace: true }) });
  };
  return (
    <form className="grid gap-4" onSubmit={submit} aria-label="Workflow">
      <div className="grid gap-1">
        <Label htmlFor="workflow-name">Name</Label>
        <Input id="workflow-name" required value={form.name} onChange={(e) => set({ name: e.target.value })} />
      </div>
      <div className="grid gap-1">
        <Label htmlFor="workflow-description">What it does</Label>
        <Input id="workflow-description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <div className="flex items-center gap-2">
        <input id="workflow-enabled" type="checkbox" className="size-4" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        <Label htmlFor="workflow-enabled">Enabled</Label>
      </div>
      {runners.error ? <Alert>{runners.error.message}</Alert> : null}
      <h2 className="text-lg font-semibold">Steps</h2>
      <p className="text-sm text-muted-foreground">
        An instruction can use <code>{"{{ previous }}"}</code> (the step before's answer),{" "}
        <code>{"{{ steps['name'] }}"}</code> and <code>{"{{ event.payload.input }}"}</code>.
      </p>
      <ol className="grid gap-3" aria-label="Steps">
        {form.steps.map((step, index) => (
          <StepEditor
            // Steps have no id until saved: the position is their identity while editing.
            key={index}
            step={step}
            index={index}
            count={form.steps.length}
            agents={runners.agents}
            teams={runners.teams}
            onChange={(next) => setStep(index, next)}
            onMove={(by) => set({ steps: moved(form.steps, index, by) })}
            onRemove={() => set({ steps: form.steps.filter((_, i) => i !== index) })}
          />
        ))}
      </ol>
      <div>
        <Button type="button" variant="outline" onClick={() => set({ steps: [...form.steps, { ...NEW_STEP }] })}>
          Add step
        </Button>
      </div>
      {save.isError ? <Alert>{save.error.message}</Alert> : null}
      {save.isSuccess ? <p role="status" className="text-sm text-muted-foreground">Saved.</p> : null}
      <div>
        <Button type="submit" disabled={save.isPending || form.steps.length === 0}>
          {workflow ? "Save workflow" : "Create workflow"}
        </Button>
      </div>
    </form>
  );
}

export function WorkflowEditPage() {
  const { workflowId = "new" } = useParams();
  const id = workflowId === "new" ? null : Number(workflowId);
  const workflow = useWorkflow(id);
  const current = workflow.data;
  const run = useRunWorkflow(id ?? 0);
  const remove = useDeleteWorkflow();
  const navigate = useNavigate();
  return (
    <section className="grid max-w-3xl gap-4">
      <p>
        <Link to="/workflows" className="text-sm underline">
          All workflows
        </Link>
      </p>
      <h1 className="text-xl font-semibold">{current ? `Workflow ${current.name}` : "New workflow"}</h1>
      {workflow.isError ? <Alert>{workflow.error.message}</Alert> : null}
      {id === null || current ? <WorkflowForm key={current?.id ?? "new"} workflow={current} /> : null}
      {current ? (
        <div className="grid gap-3 border-t pt-4">
          <div className="flex flex-wrap gap-2">
            <Button variant="outline" disabled={run.isPending} onClick={() => run.mutate()}>
              Run now
            </Button>
            <ConfirmButton
              variant="destructive"
              disabled={remove.isPending}
              title={`Delete the workflow ${current.name}?`}
              description="Its steps and the crons that start it are gone for good."
              confirmLabel="Delete workflow"
              onConfirm={() => remove.mutate(current.id, { onSuccess: () => void navigate("/workflows") })}
            >
              Delete workflow
            </ConfirmButton>
          </div>
          {run.isError ? <Alert>{run.error.message}</Alert> : null}
          {remove.isError ? <Alert>{remove.error.message}</Alert> : null}
          {run.data ? <RunWatch taskId={run.data.task_id} steps={current.steps.map((s) => s.name)} /> : null}
        </div>
      ) : null}
    </section>
  );
}
