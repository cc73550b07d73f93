import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Server = Schemas["angie__api__routes__mcp__ServerOut"];
export type ServerPatch = Schemas["ServerPatch"];
export type Tool = Schemas["ToolOut"];
export type Account = Schemas["AccountOut"];

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: () => data(api.GET("/api/me")) });
}

export function useMcpServers() {
  return useQuery({
    queryKey: ["mcp-servers"],
    queryFn: () => data(api.GET("/api/mcp/servers", { params: { query: { limit: 200 } } })),
    // Health changes without any task of the person's: looked at now and then.
    refetchInterval: 60_000,
  });
}

/** A server's live tools with what the policy decides for each; fetched when opened. */
export function useServerTools(name: string, open: boolean) {
  return useQuery({
    queryKey: ["mcp-tools", name],
    queryFn: () => data(api.GET("/api/mcp/servers/{name}/tools", { params: { path: { name } } })),
    enabled: open,
    retry: false,
  });
}

export function useUpdateServer(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: ServerPatch) =>
      data(api.PATCH("/api/mcp/servers/{name}", { params: { path: { name } }, body })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["mcp-servers"] });
      void client.invalidateQueries({ queryKey: ["mcp-tools", name] });
    },
  });
}

export function useAccounts() {
  return useQuery({ queryKey: ["mcp-accounts"], queryFn: () => data(api.GET("/api/mcp/accounts")) });
}

export function useForgetAccount() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) =>
      done(api.DELETE("/api/mcp/accounts/{account_id}", { params: { path: { account_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["mcp-accounts"] }),
  });
}
