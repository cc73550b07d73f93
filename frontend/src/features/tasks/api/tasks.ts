import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, type Schemas } from "@/api/client";

export type TaskStatus = Schemas["TaskStatus"];
export const STATUSES: TaskStatus[] = [
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "failed",
  "cancelled",
];
export const PAGE_SIZE = 25;

export function useTasks(status: TaskStatus | "", page: number) {
  return useQuery({
    queryKey: ["tasks", status, page],
    queryFn: () =>
      data(
        api.GET("/api/tasks", {
          params: {
            query: {
              status: status ? [status] : undefined,
              limit: PAGE_SIZE,
              offset: page * PAGE_SIZE,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function useTask(taskId: number) {
  return useQuery({
    queryKey: ["task", taskId],
    queryFn: () => data(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: taskId } } })),
    // A task still at work changes: look again while it runs.
    refetchInterval: (query) =>
      query.state.data && ["queued", "running"].includes(query.state.data.status) ? 2_000 : false,
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
