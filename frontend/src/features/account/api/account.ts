import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Me = Schemas["MeIn"];
export type TokenIn = Schemas["TokenIn"];

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: () => data(api.GET("/api/me")) });
}

export function useSaveMe() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Me) => data(api.PATCH("/api/me", { body })),
    onSuccess: (me) => client.setQueryData(["me"], me),
  });
}

export function usePrompts() {
  return useQuery({
    queryKey: ["prompts"],
    queryFn: () => data(api.GET("/api/prompts", { params: { query: { limit: 200 } } })),
  });
}

/** One document, with the text as Angie reads it in a conversation. */
export function usePrompt(name: string | null) {
  return useQuery({
    queryKey: ["prompt", name],
    queryFn: () =>
      data(api.GET("/api/prompts/{name}", { params: { path: { name: name ?? "" }, query: { rendered: true } } })),
    enabled: name !== null,
  });
}

export function useSavePrompt(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: string) => data(api.PUT("/api/prompts/{name}", { params: { path: { name } }, body: { body } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["prompt", name] });
      void client.invalidateQueries({ queryKey: ["prompts"] });
    },
  });
}

export function useTokens() {
  return useQuery({
    queryKey: ["tokens"],
    queryFn: () => data(api.GET("/api/me/tokens", { params: { query: { limit: 200 } } })),
  });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: TokenIn) => data(api.POST("/api/me/tokens", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["tokens"] }),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => done(api.DELETE("/api/me/tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["tokens"] }),
  });
}
