import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";
import { useTargets } from "@/api/targets";

export type Workflow = Schemas["WorkflowOut"];
export type WorkflowIn = Schemas["WorkflowIn"];
export type StepIn = Schemas["StepIn"];
export type OnFailure = Schemas["OnFailure"];

export function useWorkflows() {
  return useQuery({
    queryKey: ["workflows"],
    queryFn: () => data(api.GET("/api/workflows", { params: { query: { limit: 200 } } })),
  });
}

export function useWorkflow(id: number | null) {
  return useQuery({
    queryKey: ["workflow", id],
    queryFn: () => data(api.GET("/api/workflows/{workflow_id}", { params: { path: { workflow_id: id ?? 0 } } })),
    enabled: id !== null,
  });
}

/** The agents and teams a step can be run by. */
export function useRunners() {
  const { agents, teams, error } = useTargets();
  return { agents, teams, error };
}

export function useSaveWorkflow(id: number | null) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: WorkflowIn) =>
      id === null
        ? data(api.POST("/api/workflows", { body }))
        : data(api.PATCH("/api/workflows/{workflow_id}", { params: { path: { workflow_id: id } }, body })),
    onSuccess: (saved) => {
      client.setQueryData(["workflow", saved.id], saved);
      void client.invalidateQueries({ queryKey: ["workflows"] });
    },
  });
}

export function useDeleteWorkflow() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) =>
      done(api.DELETE("/api/workflows/{workflow_id}", { params: { path: { workflow_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["workflows"] }),
  });
}

export function useRunWorkflow(id: number) {
  return useMutation({
    mutationFn: () => data(api.POST("/api/workflows/{workflow_id}/run", { params: { path: { workflow_id: id } }, body: {} })),
  });
}

/** A run's task and its step tasks, fetched again as live updates say they change. */
export function useRun(taskId: number | null) {
  return useQuery({
    queryKey: ["task", taskId],
    queryFn: () => data(api.GET("/api/tasks/{task_id}", { params: { path: { task_id: taskId ?? 0 } } })),
    enabled: taskId !== null,
  });
}
