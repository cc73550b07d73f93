import { lazy, Suspense } from "react";
import { Link } from "react-router";

import { TaskRow } from "@/components/task-row";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { when } from "@/lib/utils";

import { useOutcomes, useStatus, useTodaysTasks } from "../api/dashboard";

// The chart library loads with the chart, not with the first page.
const OutcomeChart = lazy(() => import("../components/outcome-chart").then((m) => ({ default: m.OutcomeChart })));

function Count({ label, value, to }: { label: string; value: number; to: string }) {
  return (
    <Link
      to={to}
      className="rounded-lg border p-4 hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
    >
      <span className="block text-2xl font-semibold">{value}</span>
      <span className="text-sm text-muted-foreground">{label}</span>
    </Link>
  );
}

export function DashboardPage() {
  const status = useStatus();
  const today = useTodaysTasks();
  const outcomes = useOutcomes(14);
  const tasks = today.data?.items ?? [];
  const count = (wanted: string) => tasks.filter((task) => task.status === wanted).length;
  return (
    <section className="grid gap-6">
      <h1 className="text-xl font-semibold">Today</h1>
      {status.isError ? <Alert>{status.error.message}</Alert> : null}
      <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Count label="succeeded today" value={count("succeeded")} to="/tasks?status=succeeded" />
        <Count label="failed today" value={count("failed")} to="/tasks?status=failed" />
        <Count label="running or queued" value={(status.data?.running.length ?? 0) + (status.data?.queued.length ?? 0)} to="/tasks?status=running" />
        <Count label="waiting for you" value={status.data?.awaiting_approval.length ?? 0} to="/approvals" />
      </div>
      <Card>
        <CardHeader>
          <CardTitle className="text-base">The last 14 days</CardTitle>
        </CardHeader>
        <CardContent>
          {outcomes.isError ? <Alert>{outcomes.error.message}</Alert> : null}
          {outcomes.data ? (
            <Suspense fallback={<p className="h-56 text-sm text-muted-foreground">Loading the chart…</p>}>
              <OutcomeChart days={outcomes.data.days} />
            </Suspense>
          ) : null}
        </CardContent>
      </Card>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle className="text-base">Today's tasks</CardTitle>
          </CardHeader>
          <CardContent>
            {tasks.length === 0 ? <p className="text-sm text-muted-foreground">None yet.</p> : null}
            <div role="table" aria-label="Today's tasks" className="text-sm" hidden={tasks.length === 0}>
              <div role="rowgroup">
                {tasks.slice(0, 10).map((task) => (
                  <TaskRow key={task.id} task={task} className="px-1 py-2 last:border-b-0" />
                ))}
              </div>
            </div>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle className="text-base">MCP servers</CardTitle>
          </CardHeader>
          <CardContent>
            <ul className="grid gap-1">
              {status.data?.servers.map((server) => (
                <li key={server.name} className="flex items-center gap-2 text-sm">
                  <span className="font-mono">{server.name}</span>
                  <Badge
                    variant={server.health === "healthy" ? "success" : server.health === "unhealthy" ? "destructive" : "secondary"}
                  >
                    {server.health}
                  </Badge>
                  {server.idle ? (
                    <Badge variant="outline" title="Stopped while nobody used it; the next call starts it again.">
                      idle
                    </Badge>
                  ) : null}
                  {server.last_error ? (
                    <span className="truncate text-xs text-destructive">{server.last_error}</span>
                  ) : null}
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle className="text-base">Next scheduled runs</CardTitle>
          </CardHeader>
          <CardContent>
            {status.data?.next_crons.length === 0 ? (
              <p className="text-sm text-muted-foreground">No schedules.</p>
            ) : null}
            <ul className="grid gap-1 text-sm">
              {status.data?.next_crons.map((tick) => (
                <li key={`${tick.schedule_id}-${tick.at}`}>
                  {tick.name} — {when(tick.at)}
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle className="text-base">Model use today</CardTitle>
          </CardHeader>
          <CardContent className="text-sm">
            {status.data ? (
              <p>
                {status.data.today.input_tokens + status.data.today.output_tokens} tokens · $
                {status.data.today.cost_usd.toFixed(2)}
                {status.data.today.budget_usd != null ? ` of $${status.data.today.budget_usd.toFixed(2)}` : ""}
              </p>
            ) : null}
          </CardContent>
        </Card>
      </div>
    </section>
  );
}
