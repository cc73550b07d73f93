// Deciding an approval: shared by the chat (cards in place) and the approvals inbox.
import { useMutation, useQueryClient } from "@tanstack/react-query";

import { api, data } from "./client";

export function useDecision(approvalId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (approve: boolean) =>
      data(
        approve
          ? api.POST("/api/approvals/{approval_id}/approve", {
              params: { path: { approval_id: approvalId } },
            })
          : api.POST("/api/approvals/{approval_id}/deny", {
              params: { path: { approval_id: approvalId } },
            }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["approvals"] });
      void client.invalidateQueries({ queryKey: ["status"] });
    },
  });
}
