import { Link, useSearchParams } from "react-router";

import { StatusBadge } from "@/components/status-badge";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { when } from "@/lib/utils";

import { PAGE_SIZE, STATUSES, type TaskStatus, useTasks } from "../api/tasks";

function summary(input: Record<string, unknown>): string {
  const text = input.text ?? input.request ?? input.instruction;
  return typeof text === "string" ? text : JSON.stringify(input);
}

export function TaskListPage() {
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as TaskStatus | "";
  const page = Number(params.get("page") ?? "0") || 0;
  const tasks = useTasks(status, page);
  const go = (next: { status?: string; page: number }) => {
    const values: Record<string, string> = {};
    const wanted = next.status ?? status;
    if (wanted) values.status = wanted;
    if (next.page > 0) values.page = String(next.page);
    setParams(values);
  };
  const total = tasks.data?.total ?? 0;
  return (
    <section className="grid gap-4">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <h1 className="text-xl font-semibold">Tasks</h1>
        <div className="grid gap-1">
          <label htmlFor="status" className="text-sm font-medium">
            Status
          </label>
          <select
            id="status"
            className="h-9 rounded-md border border-input bg-background px-2 text-sm"
            value={status}
            onChange={(event) => go({ status: event.target.value, page: 0 })}
          >
            <option value="">Any</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value.replace("_", " ")}
              </option>
            ))}
          </select>
        </div>
      </div>
      {tasks.isError ? <Alert>{tasks.error.message}</Alert> : null}
      {tasks.data && tasks.data.items.length === 0 ? (
        <p className="text-muted-foreground">No tasks{status ? ` ${status.replace("_", " ")}` : ""}.</p>
      ) : null}
      <ul className="divide-y rounded-md border" aria-busy={tasks.isFetching}>
        {tasks.data?.items.map((task) => (
          <li key={task.id}>
            <Link
              to={`/tasks/${task.id}`}
              className="flex flex-wrap items-center gap-2 px-3 py-2 hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            >
              <span className="w-12 text-xs text-muted-foreground">#{task.id}</span>
              <StatusBadge status={task.status} />
              <span className="min-w-0 flex-1 truncate">{summary(task.input)}</span>
              <span className="text-xs text-muted-foreground">
                {task.agent ?? task.kind} · {when(task.created_at)}
              </span>
            </Link>
          </li>
        ))}
      </ul>
      {total > PAGE_SIZE ? (
        <nav aria-label="Pages" className="flex items-center gap-2">
          <Button variant="outline" size="sm" disabled={page === 0} onClick={() => go({ page: page - 1 })}>
            Newer
          </Button>
          <span className="text-sm text-muted-foreground">
            {page * PAGE_SIZE + 1}–{Math.min(total, (page + 1) * PAGE_SIZE)} of {total}
          </span>
          <Button
            variant="outline"
            size="sm"
            disabled={(page + 1) * PAGE_SIZE >= total}
            onClick={() => go({ page: page + 1 })}
          >
            Older
          </Button>
        </nav>
      ) : null}
    </section>
  );
}
