import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Team = Schemas["TeamOut"];
export type TeamIn = Schemas["TeamIn"];

export function useTeams() {
  return useQuery({
    queryKey: ["teams"],
    queryFn: () => data(api.GET("/api/teams", { params: { query: { limit: 200 } } })),
  });
}

export function useAgentNames() {
  return useQuery({
    queryKey: ["agents"],
    queryFn: () => data(api.GET("/api/agents", { params: { query: { limit: 200, sort: "name" } } })),
  });
}

export function useSaveTeam(id: number | null) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TeamIn) =>
      id === null
        ? data(api.POST("/api/teams", { body }))
        : data(api.PATCH("/api/teams/{team_id}", { params: { path: { team_id: id } }, body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["teams"] }),
  });
}

export function useDeleteTeam() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => done(api.DELETE("/api/teams/{team_id}", { params: { path: { team_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["teams"] }),
  });
}
