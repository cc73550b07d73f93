import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Member = Schemas["UserOut"];
export type InviteIn = Schemas["InviteIn"];

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: () => data(api.GET("/api/me")) });
}

export function useMembers(enabled: boolean) {
  return useQuery({
    queryKey: ["users"],
    queryFn: () => data(api.GET("/api/users", { params: { query: { limit: 200 } } })),
    enabled,
  });
}

export function useUpdateMember() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: number; body: Schemas["UserAdminIn"] }) =>
      data(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: id } }, body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["users"] }),
  });
}

export function useInvites(enabled: boolean) {
  return useQuery({
    queryKey: ["invites"],
    queryFn: () => data(api.GET("/api/users/invites", { params: { query: { limit: 200 } } })),
    enabled,
  });
}

export function useCreateInvite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: InviteIn) => data(api.POST("/api/users/invites", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["invites"] }),
  });
}

export function useWithdrawInvite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => done(api.DELETE("/api/users/invites/{invite_id}", { params: { path: { invite_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["invites"] }),
  });
}
