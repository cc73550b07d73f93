import { useQuery } from "@tanstack/react-query";

import { api, data } from "@/api/client";

export function usePendingApprovals() {
  return useQuery({
    queryKey: ["approvals", "pending"],
    queryFn: () => data(api.GET("/api/approvals", { params: { query: { limit: 100 } } })),
  });
}
