import { Link } from "react-router";

import { StatusBadge } from "@/components/status-badge";
import { Alert } from "@/components/ui/alert";

import { useRun } from "../api/workflows";

/** A run as it goes: the workflow's task and one line per step that has started. */
export function RunWatch({ taskId, steps }: { taskId: number; steps: string[] }) {
  const run = useRun(taskId);
  const children = [...(run.data?.children ?? [])].sort((a, b) => a.id - b.id);
  return (
    <section aria-labelledby="run" className="grid gap-2 rounded-md border p-3">
      <h2 id="run" className="flex flex-wrap items-center gap-2 font-medium">
        Run <Link to={`/tasks/${taskId}`} className="underline">task #{taskId}</Link>
        {run.data ? <StatusBadge status={run.data.status} /> : null}
      </h2>
      {run.isError ? <Alert>{run.error.message}</Alert> : null}
      <ol className="grid gap-1" aria-label="Steps of this run" aria-live="polite">
        {steps.map((name, index) => {
          const child = children[index];
          return (
            <li key={`${index}-${name}`} className="flex flex-wrap items-center gap-2 text-sm">
              <span className="w-5 text-muted-foreground">{index + 1}.</span>
              <span className="flex-1">{name}</span>
              {child ? (
                <Link to={`/tasks/${child.id}`} aria-label={`${name}: ${child.status.replace("_", " ")}`}>
                  <StatusBadge status={child.status} />
                </Link>
              ) : (
                <span className="text-muted-foreground">not started</span>
              )}
            </li>
          );
        })}
      </ol>
      {run.data?.error ? <Alert>{run.data.error}</Alert> : null}
    </section>
  );
}
