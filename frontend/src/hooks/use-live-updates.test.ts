import { QueryClient } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";

import { session } from "@/api/session";

import { followLive, SETTLE_MS, staleAfter } from "./use-live-updates";

function stream(chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

function invalidated(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map((call) => JSON.stringify((call[0] as { queryKey: unknown }).queryKey));
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("live updates", () => {
  it("fetches again what a frame says changed, once for frames that come together", async () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    const spy = vi.spyOn(client, "invalidateQueries");
    const stop = new AbortController();
    const asked: Request[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      asked.push(new Request(new URL(String(input), "http://127.0.0.1"), init));
      if (asked.length > 1) {
        // The second connection stays open until the page goes away.
        return new Promise<Response>((_resolve, reject) =>
          init?.signal?.addEventListener("abort", () => reject(new DOMException("gone", "AbortError"))),
        );
      }
      return stream([
        ': connected\n\nevent: task\ndata: {"task_id": 7, "status": "running"}\n\n',
        'event: approval\ndata: {"task_id": 7, "approval_id": 3}\n\nevent: do',
        'ne\ndata: {"task_id": 7, "status": "succeeded"}\n\n',
      ]);
    });
    const following = followLive(client, stop.signal);
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    const keys = invalidated(spy);
    // Four frames, each key fetched once.
    expect(keys.sort()).toEqual(
      ['["approvals"]', '["events"]', '["status"]', '["task"]', '["tasks"]'].sort(),
    );
    expect(asked[0]!.headers.get("Accept")).toBe("text/event-stream");
    // The stream ended: Angie reconnects, and fetches everything once it has.
    await vi.advanceTimersByTimeAsync(1_000 + SETTLE_MS);
    expect(asked).toHaveLength(2);
    stop.abort();
    await following;
  });

  it("signs in again on a 401 and stops when that fails", async () => {
    const client = new QueryClient();
    const refresh = vi.spyOn(session, "refresh").mockResolvedValue(false);
    const fetch = vi.fn(async () => new Response("{}", { status: 401 }));
    vi.stubGlobal("fetch", fetch);
    await followLive(client, new AbortController().signal);
    expect(refresh).toHaveBeenCalledOnce();
    expect(fetch).toHaveBeenCalledOnce();
  });

  it("names approvals only for frames about them", () => {
    expect(staleAfter({ type: "tool_call", data: { task_id: 1 } })).not.toContainEqual(["approvals"]);
    expect(staleAfter({ type: "decision", data: { task_id: 1, approval_id: 2 } })).toContainEqual([
      "approvals",
    ]);
  });
});
