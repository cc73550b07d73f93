import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Channel = Schemas["ChannelOut"];
export type Identity = Schemas["IdentityOut"];
export type ChannelChange = Schemas["ChannelIn"];

export function useChannels() {
  return useQuery({
    queryKey: ["channels"],
    queryFn: () => data(api.GET("/api/channels")),
    // Connections come and go on their own: look again now and then.
    refetchInterval: 10_000,
  });
}

export function useIdentities() {
  return useQuery({
    queryKey: ["channel-identities"],
    queryFn: () => data(api.GET("/api/channels/identities")),
  });
}

function useRefresh() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: ["channels"] });
    void client.invalidateQueries({ queryKey: ["channel-identities"] });
  };
}

export function useSaveChannel(kind: string) {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (body: ChannelChange) =>
      data(api.PUT("/api/channels/{kind}", { params: { path: { kind } }, body })),
    onSuccess: refresh,
  });
}

export function useCheckChannel(kind: string) {
  return useMutation({
    mutationFn: () => data(api.POST("/api/channels/{kind}/check", { params: { path: { kind } } })),
  });
}

export function useLink() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (code: string) => data(api.POST("/api/channels/link", { body: { code } })),
    onSuccess: refresh,
  });
}

export function useUnlink() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (id: number) =>
      done(
        api.DELETE("/api/channels/identities/{identity_id}", {
          params: { path: { identity_id: id } },
        }),
      ),
    onSuccess: refresh,
  });
}

export function usePrefer() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (id: number) =>
      data(
        api.POST("/api/channels/identities/{identity_id}/prefer", {
          params: { path: { identity_id: id } },
        }),
      ),
    onSuccess: refresh,
  });
}

/** Only what changed goes to Angie: the settings (all of them: they replace the saved
 * ones), the secrets that were typed (secrets are never sent back, so blank means "keep"). */
export function changes(channel: Channel, values: Record<string, string>, enabled: boolean): ChannelChange {
  const config: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const field of channel.fields) {
    const value = (values[field.name] ?? "").trim();
    if (field.secret) {
      if (value) secrets[field.name] = value;
    } else if (value) {
      config[field.name] = value;
    }
  }
  const body: ChannelChange = { enabled, config };
  if (Object.keys(secrets).length > 0) body.secrets = secrets;
  return body;
}
