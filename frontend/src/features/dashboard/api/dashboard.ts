import { useQuery } from "@tanstack/react-query";

import { api, data } from "@/api/client";

export function useStatus() {
  return useQuery({
    queryKey: ["status"],
    queryFn: () => data(api.GET("/api/status")),
    // Server and channel health change without a task: checked now and then besides.
    refetchInterval: 60_000,
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
  });
}

/** How the person's tasks ended over the last ``days`` days, a row a day in their time zone. */
export function useOutcomes(days = 14) {
  return useQuery({
    queryKey: ["tasks", "stats", days],
    queryFn: () => data(api.GET("/api/tasks/stats", { params: { query: { days } } })),
  });
}
