import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, type Schemas } from "@/api/client";

export type TaskStatus = Schemas["TaskStatus"];
export type TaskKind = Schemas["TaskKind"];
export const STATUSES: TaskStatus[] = [
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "failed",
  "cancelled",
];
export const KINDS: TaskKind[] = ["chat", "agent", "team", "workflow", "workflow_step", "tool"];
/** The orders the list offers (the API's sort fields); the first is the API's default. */
export const SORTS = {
  "-created_at": "Newest first",
  created_at: "Oldest first",
  "-finished_at": "Finished last first",
  status: "By status",
} as const;
export type TaskSort = keyof typeof SORTS;
// One request per page as the person scrolls: enough rows to fill a tall screen several times.
export const PAGE_SIZE = 100;

/** What narrows the task list; each is a search param of the page's URL. */
export interface TaskFilters {
  status: TaskStatus | "";
  kind: TaskKind | "";
  agent_id: number | null;
  team_id: number | null;
  workflow_id: number | null;
  since: string;
  until: string;
  sort: TaskSort;
}

function choice<T extends string>(value: string | null, allowed: readonly T[]): T | "" {
  return value && (allowed as readonly string[]).includes(value) ? (value as T) : "";
}

function rowId(value: string | null): number | null {
  const id = Number(value);
  return value && Number.isSafeInteger(id) && id > 0 ? id : null;
}

/** The filters in a URL's search params; a value the list does not know is left out. */
export function filtersFrom(params: URLSearchParams): TaskFilters {
  return {
    status: choice(params.get("status"), STATUSES),
    kind: choice(params.get("kind"), KINDS),
    agent_id: rowId(params.get("agent_id")),
    team_id: rowId(params.get("team_id")),
    workflow_id: rowId(params.get("workflow_id")),
    since: params.get("since") ?? "",
    until: params.get("until") ?? "",
    sort: choice(params.get("sort"), Object.keys(SORTS) as TaskSort[]) || "-created_at",
  };
}

/** The search params of these filters, the defaults left out so the URL stays short. */
export function filtersTo(filters: TaskFilters): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(filters) as [string, string | number | null][]) {
    if (value === null || value === "" || (key === "sort" && value === "-created_at")) continue;
    values[key] = String(value);
  }
  return values;
}

/** The whole task list, a page at a time: `fetchNextPage` as the person scrolls. The key starts
 * with "tasks" so live updates (which invalidate every "tasks" query) refresh it: no polling. */
export function useTaskList(filters: TaskFilters) {
  return useInfiniteQuery({
    queryKey: ["tasks", "list", filters],
    queryFn: ({ pageParam, signal }) =>
      data(
        api.GET("/api/tasks", {
          params: {
            query: {
              status: filters.status ? [filters.status] : undefined,
              kind: filters.kind || undefined,
              agent_id: filters.agent_id ?? undefined,
              team_id: filters.team_id ?? undefined,
              workflow_id: filters.workflow_id ?? undefined,
              since: filters.since || undefined,
              until: filters.until || undefined,
              sort: filters.sort,
              limit: PAGE_SIZE,
              offset: pageParam,
            },
          },
          signal,
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) =>
      last.offset + last.items.length < last.total && last.items.length > 0
        ? last.offset + last.items.length
        : undefined,
  });
}

export function useTask(taskId: number) {
  return useQuery({
    queryKey: ["task", taskId],
    queryFn: () => data(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: taskId } } })),
    // No timer: live updates (use-live-updates.ts) say when a task or its sub-tasks change.
  });
}

/** Cancel an unfinished task, or queue a failed or cancelled one again. */
export function useTaskAction(taskId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (action: "cancel" | "retry") =>
      data(
        action === "cancel"
          ? api.POST("/api/tasks/{task_id}/cancel", { params: { path: { task_id: taskId } } })
          : api.POST("/api/tasks/{task_id}/retry", { params: { path: { task_id: taskId } } }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["task", taskId] });
      void client.invalidateQueries({ queryKey: ["tasks"] });
    },
  });
}
