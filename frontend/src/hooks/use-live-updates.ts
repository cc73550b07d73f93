// Live everywhere: GET /api/live tells which of the person's tasks and approvals changed, and
// the pages showing them fetch again, instead of every page polling on a timer.
import { type QueryClient, type QueryKey, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { session } from "@/api/session";
import { type LiveFrame, parseFrames } from "@/api/sse";

/** Changes that come close together are fetched once. */
export const SETTLE_MS = 250;
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** What to fetch again after one frame of the stream. */
export function staleAfter(frame: LiveFrame): QueryKey[] {
  // Every open task page (its timeline, a workflow run's steps): few, and ids come as both
  // numbers and route strings.
  const keys: QueryKey[] = [["tasks"], ["task"], ["status"], ["events"]];
  if (frame.type === "approval" || frame.type === "decision" || frame.type === "done") {
    keys.push(["approvals"]);
  }
  return keys;
}

/** Read the stream until it ends or ``signal`` aborts; each frame goes to ``onFrame``.
 * Answers the HTTP status (0 when the connection failed). */
export async function readLive(signal: AbortSignal, onFrame: (frame: LiveFrame) => void): Promise<number> {
  let response: Response;
  try {
    response = await fetch("/api/live", {
      headers: { Authorization: `Bearer ${session.accessToken() ?? ""}`, Accept: "text/event-stream" },
      signal,
    });
  } catch {
    return 0;
  }
  if (!response.ok || !response.body) return response.status;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return response.status;
      const { frames, rest } = parseFrames(buffer + value);
      buffer = rest;
      frames.forEach(onFrame);
    }
  } catch {
    return response.status; // the connection dropped, or the page went away
  }
}

/** Follow the stream for as long as ``signal`` lives: reconnect after a drop (waiting longer
 * each time), sign in again on a 401, and fetch everything again after each reconnection
 * (what changed meanwhile was not heard). */
export async function followLive(client: QueryClient, signal: AbortSignal): Promise<void> {
  const pending = new Map<string, QueryKey>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    for (const key of pending.values()) void client.invalidateQueries({ queryKey: key });
    pending.clear();
  };
  const stale = (keys: QueryKey[]) => {
    for (const key of keys) pending.set(JSON.stringify(key), key);
    timer ??= setTimeout(flush, SETTLE_MS);
  };
  let failures = 0;
  let first = true;
  while (!signal.aborted) {
    if (!first) stale([["tasks"], ["status"], ["events"], ["approvals"], ["task"]]);
    first = false;
    const heard = { any: false };
    const status = await readLive(signal, (frame) => {
      heard.any = true;
      stale(staleAfter(frame));
    });
    if (signal.aborted) break;
    if (status === 401 && !(await session.refresh())) break; // signed out: the app says so
    failures = heard.any || status === 200 ? 0 : failures + 1;
    const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(waiting);
        resolve();
      };
      const waiting = setTimeout(done, wait);
      signal.addEventListener("abort", done, { once: true });
    });
  }
  clearTimeout(timer);
}

/** Mounted once while someone is signed in. */
export function useLiveUpdates(): void {
  const client = useQueryClient();
  useEffect(() => {
    const stop = new AbortController();
    void followLive(client, stop.signal);
    return () => stop.abort();
  }, [client]);
}
