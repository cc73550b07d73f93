import { Link, useNavigate, useParams } from "react-router";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { ConfirmButton } from "@/components/confirm-button";
import { Button } from "@/components/ui/button";

import { useAgent, useAgents, useDeleteAgent, useSaveAgent } from "../api/agents";
import { AgentForm } from "../components/agent-form";

export function AgentListPage() {
  const agents = useAgents();
  return (
    <section className="grid max-w-3xl gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-xl font-semibold">Agents</h1>
        <Button asChild>
          <Link to="/agents/new">New agent</Link>
        </Button>
      </div>
      {agents.isError ? <Alert>{agents.error.message}</Alert> : null}
      <ul className="divide-y rounded-md border">
        {agents.data?.items.map((agent) => (
          <li key={agent.id}>
            <Link
              to={`/agents/${agent.id}`}
              className="flex flex-wrap items-center gap-2 px-3 py-2 hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            >
              <span className="font-medium">{agent.name}</span>
              <span className="min-w-0 flex-1 truncate text-sm text-muted-foreground">{agent.description}</span>
              {agent.builtin ? <Badge variant="secondary">built in</Badge> : null}
              {agent.enabled ? null : <Badge variant="outline">disabled</Badge>}
              {agent.available ? null : (
                <Badge variant="destructive" title={agent.unavailable_reason}>
                  unavailable
                </Badge>
              )}
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function AgentEditPage() {
  const { agentId = "new" } = useParams();
  const id = agentId === "new" ? null : Number(agentId);
  const agent = useAgent(id);
  const save = useSaveAgent(id);
  const remove = useDeleteAgent();
  const navigate = useNavigate();
  const current = agent.data;
  return (
    <section className="grid max-w-3xl gap-4">
      <p>
        <Link to="/agents" className="text-sm underline">
          All agents
        </Link>
      </p>
      <h1 className="text-xl font-semibold">{id === null ? "New agent" : `Agent ${current?.name ?? ""}`}</h1>
      {agent.isError ? <Alert>{agent.error.message}</Alert> : null}
      {current && !current.available ? <Alert>{current.unavailable_reason}</Alert> : null}
      {id === null || current ? (
        <AgentForm
          key={current?.id ?? "new"}
          agent={current}
          saving={save.isPending}
          error={save.error?.message ?? null}
          onSave={(body) =>
            save.mutate(body, { onSuccess: (saved) => void navigate(`/agents/${saved.id}`, { replace: true }) })
          }
        />
      ) : null}
      {save.isSuccess ? <p role="status" className="text-sm text-muted-foreground">Saved.</p> : null}
      {current && !current.builtin ? (
        <div className="border-t pt-4">
          <ConfirmButton
            variant="destructive"
            disabled={remove.isPending}
            title={`Delete the agent ${current.name}?`}
            description="Teams and workflows that use it can no longer call on it."
            confirmLabel="Delete agent"
            onConfirm={() => remove.mutate(current.id, { onSuccess: () => void navigate("/agents") })}
          >
            Delete agent
          </ConfirmButton>
          {remove.isError ? <Alert className="mt-2">{remove.error.message}</Alert> : null}
        </div>
      ) : null}
    </section>
  );
}
