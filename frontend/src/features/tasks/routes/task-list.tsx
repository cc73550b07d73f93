import { useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";

import { TASK_ROW_CLASS, TaskRow } from "@/components/task-row";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";

import { filtersFrom, filtersTo, KINDS, SORTS, STATUSES, type TaskFilters, useTaskList } from "../api/tasks";

// Every row is one height, so the list knows where row 9,000 is without drawing the rows above.
export const ROW_HEIGHT = 56;
// Rows drawn beyond the visible ones, so a quick scroll does not show blank space.
const OVERSCAN = 8;
// The next page is asked for when the rows drawn come this close to the last one loaded.
const AHEAD = 20;
const SELECT = "h-9 rounded-md border border-input bg-background px-2 text-sm";

/** A date of the filter (YYYY-MM-DD, the person's day) as the instant the API compares with. */
function midnight(day: string, after = 0): string | undefined {
  const date = new Date(`${day}T00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  date.setDate(date.getDate() + after);
  return date.toISOString();
}

function Filters({ filters, set }: { filters: TaskFilters; set: (next: Partial<TaskFilters>) => void }) {
  const narrowed = filters.agent_id ?? filters.team_id ?? filters.workflow_id;
  return (
    <div className="flex flex-wrap items-end gap-2">
      <div className="grid gap-1">
        <label htmlFor="status" className="text-sm font-medium">
          Status
        </label>
        <select
          id="status"
          className={SELECT}
          value={filters.status}
          onChange={(event) => set({ status: event.target.value as TaskFilters["status"] })}
        >
          <option value="">Any</option>
          {STATUSES.map((value) => (
            <option key={value} value={value}>
              {value.replace("_", " ")}
            </option>
          ))}
        </select>
      </div>
      <div className="grid gap-1">
        <label htmlFor="kind" className="text-sm font-medium">
          Kind
        </label>
        <select
          id="kind"
          className={SELECT}
          value={filters.kind}
          onChange={(event) => set({ kind: event.target.value as TaskFilters["kind"] })}
        >
          <option value="">Any</option>
          {KINDS.map((value) => (
            <option key={value} value={value}>
              {value.replace("_", " ")}
            </option>
          ))}
        </select>
      </div>
      <div className="grid gap-1">
        <label htmlFor="since" className="text-sm font-medium">
          From
        </label>
        <input
          id="since"
          type="date"
          className={SELECT}
          value={filters.since}
          max={filters.until || undefined}
          onChange={(event) => set({ since: event.target.value })}
        />
      </div>
      <div className="grid gap-1">
        <label htmlFor="until" className="text-sm font-medium">
          To
        </label>
        <input
          id="until"
          type="date"
          className={SELECT}
          value={filters.until}
          min={filters.since || undefined}
          onChange={(event) => set({ until: event.target.value })}
        />
      </div>
      <div className="grid gap-1">
        <label htmlFor="sort" className="text-sm font-medium">
          Order
        </label>
        <select
          id="sort"
          className={SELECT}
          value={filters.sort}
          onChange={(event) => set({ sort: event.target.value as TaskFilters["sort"] })}
        >
          {Object.entries(SORTS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {narrowed != null ? (
        <Button
          variant="outline"
          size="sm"
          onClick={() => set({ agent_id: null, team_id: null, workflow_id: null })}
        >
          {filters.agent_id != null
            ? `Agent #${filters.agent_id}`
            : filters.team_id != null
              ? `Team #${filters.team_id}`
              : `Workflow #${filters.workflow_id}`}{" "}
          only — show all
        </Button>
      ) : null}
    </div>
  );
}

export function TaskListPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFrom(params), [params]);
  const query = useMemo(
    () => ({
      ...filters,
      since: filters.since ? (midnight(filters.since) ?? "") : "",
      until: filters.until ? (midnight(filters.until, 1) ?? "") : "",
    }),
    [filters],
  );
  const tasks = useTaskList(query);
  const rows = useMemo(() => {
    // Offset pages can overlap when new tasks arrive between two of them: each task once.
    const seen = new Set<number>();
    return (tasks.data?.pages ?? []).flatMap((page) =>
      page.items.filter((task) => !seen.has(task.id) && seen.add(task.id)),
    );
  }, [tasks.data]);
  const total = tasks.data?.pages[0]?.total;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = tasks;

  const scroller = useRef<HTMLDivElement>(null);
  // A new key function makes the virtualizer measure every row again: a new one only with new rows.
  const keyOf = useCallback((index: number) => rows[index]?.id ?? "more", [rows]);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design
  const virtualizer = useVirtualizer({
    count: hasNextPage ? rows.length + 1 : rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN,
    getItemKey: keyOf,
  });
  const drawn = virtualizer.getVirtualItems();
  const lastDrawn = drawn.at(-1)?.index ?? 0;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastDrawn >= rows.length - AHEAD) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastDrawn, rows.length]);

  // One row is in the tab order (a roving tabindex); arrows, Page keys, Home and End move it.
  const [active, setActive] = useState(0);
  const [pending, setPending] = useState<number | null>(null);
  const current = Math.min(active, Math.max(0, rows.length - 1));
  // Other filters, another list: it starts from its top row.
  const set = (next: Partial<TaskFilters>) => {
    setParams(filtersTo({ ...filters, ...next }));
    setActive(0);
    if (scroller.current) scroller.current.scrollTop = 0;
  };
  useEffect(() => {
    if (pending === null) return;
    const link = scroller.current?.querySelector<HTMLElement>(`[data-index="${pending}"] a`);
    if (link) {
      link.focus();
      setPending(null);
    }
  }, [pending, drawn]);
  const move = (event: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 0) / ROW_HEIGHT) - 1);
    const steps: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + page,
      PageUp: current - page,
      Home: 0,
      End: rows.length - 1,
    };
    const to = steps[event.key];
    if (to === undefined || rows.length === 0) return;
    event.preventDefault();
    const next = Math.max(0, Math.min(rows.length - 1, to));
    setActive(next);
    setPending(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  };

  const label = filters.status ? ` ${filters.status.replace("_", " ")}` : "";
  return (
    <section className="grid gap-4">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <div>
          <h1 className="text-xl font-semibold">Tasks</h1>
          {total !== undefined ? (
            <p className="text-sm text-muted-foreground">
              {total.toLocaleString()} {total === 1 ? "task" : "tasks"}
            </p>
          ) : null}
        </div>
        <Filters filters={filters} set={set} />
      </div>
      {tasks.isError ? <Alert>{tasks.error.message}</Alert> : null}
      {tasks.isPending ? (
        <p role="status" className="text-muted-foreground">
          Loading tasks…
        </p>
      ) : null}
      {tasks.data && rows.length === 0 ? <p className="text-muted-foreground">No tasks{label}.</p> : null}
      <div
        ref={scroller}
        role="table"
        aria-label="Tasks"
        aria-rowcount={total ?? -1}
        aria-busy={tasks.isFetching}
        onKeyDown={move}
        className="h-[calc(100dvh-16rem)] min-h-72 overflow-auto rounded-md border"
        hidden={rows.length === 0}
      >
        <div role="rowgroup" className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
          {drawn.map((item) => {
            const task = rows[item.index];
            const place = {
              "aria-rowindex": item.index + 1,
              "data-index": item.index,
              className: "absolute left-0 top-0",
              style: { height: ROW_HEIGHT, transform: `translateY(${item.start}px)` },
            };
            return task ? (
              <TaskRow
                key={item.key}
                task={task}
                focusable={item.index === current}
                onFocus={() => setActive(item.index)}
                {...place}
              />
            ) : (
              <div key={item.key} role="row" {...place} className={cn(TASK_ROW_CLASS, place.className)}>
                <div role="cell" className="text-sm text-muted-foreground">
                  Loading more…
                </div>
              </div>
            );
          })}
        </div>
      </div>
      <p role="status" aria-live="polite" className="text-sm text-muted-foreground">
        {isFetchingNextPage ? "Loading more…" : ""}
      </p>
    </section>
  );
}
