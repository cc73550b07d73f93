import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, done, type Schemas } from "@/api/client";

export type Webhook = Schemas["WebhookOut"];
export type NewWebhook = Schemas["NewWebhookOut"];
export type WebhookIn = Schemas["WebhookIn"];
export type WebhookPatch = Schemas["WebhookPatch"];

export function useWebhooks() {
  return useQuery({
    queryKey: ["webhooks"],
    queryFn: () => data(api.GET("/api/webhooks", { params: { query: { limit: 200, sort: "name" } } })),
  });
}

export type Delivery = Schemas["DeliveryRecordOut"];

/** A webhook's recent deliveries, newest first; deliveries are events, so the live updates
 * that refresh events (a task ending) refresh these too. */
export function useDeliveries(id: number) {
  return useQuery({
    queryKey: ["events", "webhook", id],
    queryFn: () =>
      data(api.GET("/api/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: id }, query: { limit: 20 } } })),
  });
}

export function useCreateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: WebhookIn) => data(api.POST("/api/webhooks", { body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["webhooks"] }),
  });
}

export function useUpdateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: number; body: WebhookPatch }) =>
      data(api.PATCH("/api/webhooks/{webhook_id}", { params: { path: { webhook_id: id } }, body })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["webhooks"] }),
  });
}

export function useRotateWebhook() {
  return useMutation({
    mutationFn: (id: number) => data(api.POST("/api/webhooks/{webhook_id}/rotate", { params: { path: { webhook_id: id } } })),
  });
}

export function useDeleteWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => done(api.DELETE("/api/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["webhooks"] }),
  });
}
