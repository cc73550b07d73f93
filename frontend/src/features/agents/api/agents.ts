import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Agent = Schemas["AgentOut"];
export type AgentIn = Schemas["AgentIn"];
export type Tool = Schemas["ToolOut"];

export function useAgents() {
  return useQuery({
    queryKey: ["agents"],
    queryFn: () => data(api.GET("/api/agents", { params: { query: { limit: 200, sort: "name" } } })),
  });
}

export function useAgent(id: number | null) {
  return useQuery({
    queryKey: ["agent", id],
    queryFn: () => data(api.GET("/api/agents/{agent_id}", { params: { path: { agent_id: id ?? 0 } } })),
    enabled: id !== null,
  });
}

export function useServers() {
  return useQuery({
    queryKey: ["mcp-servers"],
    queryFn: () => data(api.GET("/api/mcp/servers", { params: { query: { limit: 200 } } })),
  });
}

/** Each chosen server's live tool list (a server that is down says why). */
export function useTools(servers: string[]) {
  return useQueries({
    queries: servers.map((name) => ({
      queryKey: ["mcp-tools", name],
      queryFn: () => data(api.GET("/api/mcp/servers/{name}/tools", { params: { path: { name } } })),
      retry: false,
      staleTime: 60_000,
    })),
  });
}

export function useSaveAgent(id: number | null) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: AgentIn) =>
      id === null
        ? data(api.POST("/api/agents", { body }))
        : data(api.PATCH("/api/agents/{agent_id}", { params: { path: { agent_id: id } }, body })),
    onSuccess: (saved) => {
      client.setQueryData(["agent", saved.id], saved);
      void client.invalidateQueries({ queryKey: ["agents"] });
    },
  });
}

export function useDeleteAgent() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => done(api.DELETE("/api/agents/{agent_id}", { params: { path: { agent_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["agents"] }),
  });
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** Angie's rule (toolbox.tool_allowed): globs over prefixed tool names, `!glob` excludes, no
 * inclusion glob means every tool. */
export function allowed(name: string, filter: string[]): boolean {
  const include = filter.filter((p) => !p.startsWith("!"));
  const exclude = filter.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  if (include.length > 0 && !include.some((p) => glob(p).test(name))) return false;
  return !exclude.some((p) => glob(p).test(name));
}

/** The filter with one tool switched on or off, keeping the person's own globs. */
export function toggled(filter: string[], name: string, on: boolean): string[] {
  if (allowed(name, filter) === on) return filter;
  if (!on) return [...filter.filter((p) => p !== name), `!${name}`];
  const next = filter.filter((p) => p !== `!${name}`);
  return allowed(name, next) ? next : [...next, name];
}
