// Say something to Angie and follow her work: POST /api/chat/stream answers server-sent events.
import type { Schemas } from "@/api/client";
import { session } from "@/api/session";
import { type LiveFrame, parseFrames } from "@/api/sse";

/** What the person is looking at: Angie is told about it with the message. */
export type PageContext = Schemas["PageContext"];

export type { LiveFrame } from "@/api/sse";
export { parseFrames } from "@/api/sse";

export async function* chatStream(
  text: string,
  thread: string,
  signal: AbortSignal,
  context?: PageContext,
): AsyncGenerator<LiveFrame> {
  const response = await fetch("/api/chat/stream", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${session.accessToken() ?? ""}`,
    },
    body: JSON.stringify(context ? { text, thread, context } : { text, thread }),
    signal,
  });
  if (!response.ok || !response.body) {
    let message = `Angie answered ${response.status}`;
    try {
      const body = (await response.json()) as { error?: { message?: string } };
      message = body.error?.message ?? message;
    } catch {
      // not JSON
    }
    throw new Error(message);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const { frames, rest } = parseFrames(buffer + value);
    buffer = rest;
    yield* frames;
  }
}
