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

export type SignIn = Schemas["SignInOut"];
export type SignInStart = Schemas["SignInIn"];

/** Start connecting an account: Angie runs the server's sign-in on her machine. */
export function useStartSignIn() {
  return useMutation({
    mutationFn: (body: SignInStart) => data(api.POST("/api/mcp/accounts/sign-ins", { body })),
  });
}

/** A sign-in in progress, looked at every second until it ends (it waits for the person, on
 * the provider's page: no task or stream tells of it). */
export function useSignIn(id: string | null) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["mcp-sign-in", id],
    queryFn: async () => {
      const found = await data(
        api.GET("/api/mcp/accounts/sign-ins/{sign_in_id}", { params: { path: { sign_in_id: id ?? "" } } }),
      );
      if (found.state === "connected") void client.invalidateQueries({ queryKey: ["mcp-accounts"] });
      return found;
    },
    enabled: id !== null,
    refetchInterval: (query) => (query.state.data?.state === "waiting" ? 1000 : false),
  });
}

export function usePasteSignIn(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (address: string) =>
      data(
        api.POST("/api/mcp/accounts/sign-ins/{sign_in_id}/paste", {
          params: { path: { sign_in_id: id } },
          body: { address },
        }),
      ),
    onSuccess: (found) => {
      client.setQueryData(["mcp-sign-in", id], found);
      if (found.state === "connected") void client.invalidateQueries({ queryKey: ["mcp-accounts"] });
    },
  });
}

export function useCancelSignIn() {
  return useMutation({
    mutationFn: (id: string) =>
      done(api.DELETE("/api/mcp/accounts/sign-ins/{sign_in_id}", { params: { path: { sign_in_id: id } } })),
  });
}
