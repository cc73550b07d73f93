import { Link, useParams } from "react-router";

import type { Schemas } from "@/api/client";
import { ApprovalCard } from "@/components/approval-card";
import { StatusBadge } from "@/components/status-badge";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { when } from "@/lib/utils";

import { useTask, useTaskAction } from "../api/tasks";
import { PlanCard } from "../components/plan-card";

type Detail = Schemas["TaskDetail"];

interface Moment {
  at: string;
  key: string;
  body: React.ReactNode;
}

/** The task's story in time order: started, each tool call, approvals, sub-tasks, the end. */
function timeline(task: Detail): Moment[] {
  const moments: Moment[] = [{ at: task.created_at, key: "created", body: `Created (${task.kind})` }];
  if (task.started_at) moments.push({ at: task.started_at, key: "started", body: "Started" });
  for (const call of task.tool_calls) {
    moments.push({
      at: call.created_at,
      key: `call-${call.id}`,
      body: (
        <span>
          <span className="font-mono">
            {call.server}.{call.tool}
          </span>{" "}
          — {call.outcome}
          {call.duration_ms != null ? ` in ${call.duration_ms} ms` : ""}
          {call.error ? <span className="block text-destructive">{call.error}</span> : null}
        </span>
      ),
    });
  }
  for (const approval of task.approvals) {
    moments.push({
      at: approval.created_at,
      key: `approval-${approval.id}`,
      body: (
        <ApprovalCard
          ask={{
            id: approval.id,
            server: approval.server,
            tool: approval.tool,
            arguments: approval.arguments,
            askedBecause: approval.asked_because,
            status: approval.status,
          }}
        />
      ),
    });
  }
  for (const child of task.children) {
    moments.push({
      at: child.created_at,
      key: `child-${child.id}`,
      body: (
        <Link to={`/tasks/${child.id}`} className="underline">
          Sub-task #{child.id} ({child.agent ?? child.kind}) — {child.status}
        </Link>
      ),
    });
  }
  if (task.finished_at) {
    moments.push({ at: task.finished_at, key: "finished", body: `Finished: ${task.status}` });
  }
  return moments.sort((a, b) => a.at.localeCompare(b.at));
}

export function TaskDetailPage() {
  const taskId = Number(useParams().taskId);
  const task = useTask(taskId);
  const action = useTaskAction(taskId);
  if (task.isError) return <Alert>{task.error.message}</Alert>;
  if (!task.data) return <p role="status">Loading…</p>;
  const detail = task.data;
  return (
    <section className="grid max-w-3xl gap-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="text-xl font-semibold">Task #{detail.id}</h1>
        <StatusBadge status={detail.status} />
        <span className="text-sm text-muted-foreground">{detail.agent ?? detail.kind}</span>
        <span className="ml-auto flex gap-2">
          {["queued", "running", "awaiting_approval"].includes(detail.status) ? (
            <Button size="sm" variant="outline" disabled={action.isPending} onClick={() => action.mutate("cancel")}>
              Cancel
            </Button>
          ) : null}
          {["failed", "cancelled"].includes(detail.status) ? (
            <Button size="sm" disabled={action.isPending} onClick={() => action.mutate("retry")}>
              Retry
            </Button>
          ) : null}
        </span>
      </div>
      {action.isError ? <Alert>{action.error.message}</Alert> : null}
      <Card>
        <CardHeader>
          <CardTitle className="text-base">Asked</CardTitle>
        </CardHeader>
        <CardContent>
          <pre className="overflow-x-auto whitespace-pre-wrap text-sm">
            {JSON.stringify(detail.input, null, 2)}
          </pre>
        </CardContent>
      </Card>
      {detail.plans?.map((plan) => <PlanCard key={plan.id} plan={plan} />)}
      <h2 className="font-semibold">Timeline</h2>
      <ol className="grid gap-3 border-l pl-4">
        {timeline(detail).map((moment) => (
          <li key={moment.key} className="grid gap-1">
            <time className="text-xs text-muted-foreground" dateTime={moment.at}>
              {when(moment.at)}
            </time>
            <div className="text-sm">{moment.body}</div>
          </li>
        ))}
      </ol>
      {detail.error ? <Alert>{detail.error}</Alert> : null}
      {detail.result != null ? (
        <Card>
          <CardHeader>
            <CardTitle className="text-base">Result</CardTitle>
          </CardHeader>
          <CardContent>
            <pre className="overflow-x-auto whitespace-pre-wrap text-sm">
              {typeof detail.result === "string" ? detail.result : JSON.stringify(detail.result, null, 2)}
            </pre>
          </CardContent>
        </Card>
      ) : null}
      <p className="text-xs text-muted-foreground">
        Tokens: {detail.input_tokens ?? 0} in, {detail.output_tokens ?? 0} out · attempts{" "}
        {detail.attempts}/{detail.max_attempts}
      </p>
    </section>
  );
}
