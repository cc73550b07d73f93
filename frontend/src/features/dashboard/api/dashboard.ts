import { useQuery } from "@tanstack/react-query";

import { api, data } from "@/api/client";

export function useStatus() {
  return useQuery({
    queryKey: ["status"],
    queryFn: () => data(api.GET("/api/status")),
    refetchInterval: 15_000,
  });
}

/** Today's tasks (since local midnight), newest first. */
export function useTodaysTasks() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  return useQuery({
    queryKey: ["tasks", "today", midnight.toISOString()],
    queryFn: () =>
      data(
        api.GET("/api/tasks", {
          params: { query: { since: midnight.toISOString(), limit: 100 } },
        }),
      ),
    refetchInterval: 15_000,
  });
}
