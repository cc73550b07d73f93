import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { api, data, done, type Schemas } from "@/api/client";

export type EventType = Schemas["EventType"];
export type Schedule = Schemas["ScheduleOut"];
export type ScheduleIn = Schemas["ScheduleIn"];
export type ScheduleUpdate = Schemas["ScheduleUpdate"];
export const EVENT_TYPES: EventType[] = ["message", "cron", "webhook", "api", "system"];
export const PAGE_SIZE = 25;

export function useEvents(type: EventType | "", page: number) {
  return useQuery({
    queryKey: ["events", type, page],
    queryFn: () =>
      data(
        api.GET("/api/events", {
          params: { query: { type: type || undefined, limit: PAGE_SIZE, offset: page * PAGE_SIZE } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function useSchedules() {
  return useQuery({
    queryKey: ["schedules"],
    queryFn: () => data(api.GET("/api/schedules", { params: { query: { limit: 200 } } })),
  });
}

/** The coming runs of every enabled cron, soonest first, as Angie's scheduler computes them. */
export function useUpcoming() {
  return useQuery({
    queryKey: ["upcoming"],
    queryFn: () => data(api.GET("/api/events/upcoming", { params: { query: { hours: 48, limit: 50 } } })),
    // Time passing changes it, not a task: checked every minute.
    refetchInterval: 60_000,
  });
}

function useRefresh() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: ["schedules"] });
    void client.invalidateQueries({ queryKey: ["upcoming"] });
  };
}

export function useCreateSchedule() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (body: ScheduleIn) => data(api.POST("/api/schedules", { body })),
    onSuccess: refresh,
  });
}

export function useScheduleAction() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: ({ id, action }: { id: number; action: "pause" | "resume" | "delete" }) => {
      const path = { params: { path: { schedule_id: id } } };
      if (action === "delete") return done(api.DELETE("/api/schedules/{schedule_id}", path));
      return done(
        action === "pause"
          ? api.POST("/api/schedules/{schedule_id}/pause", path)
          : api.POST("/api/schedules/{schedule_id}/resume", path),
      );
    },
    onSuccess: refresh,
  });
}

export function useUpdateSchedule() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: ({ id, body }: { id: number; body: ScheduleUpdate }) =>
      data(api.PATCH("/api/schedules/{schedule_id}", { params: { path: { schedule_id: id } }, body })),
    onSuccess: refresh,
  });
}

/** ``value``, once it has stopped changing for ``ms`` (a preview is asked for once typing
 * pauses, not on every key). */
export function useSettled<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** A crontab in words and its next five runs, from Angie's own scheduler. */
export function useCronPreview(cron: string, timezone: string) {
  const settled = useSettled({ cron: cron.trim(), timezone: timezone.trim() });
  return useQuery({
    queryKey: ["schedule-preview", settled.cron, settled.timezone],
    queryFn: () =>
      data(
        api.POST("/api/schedules/preview", {
          body: { cron: settled.cron, timezone: settled.timezone || null },
        }),
      ),
    enabled: settled.cron !== "",
    retry: false,
    placeholderData: keepPreviousData,
  });
}
