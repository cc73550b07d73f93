// Say something to Angie and follow her work: POST /api/chat/stream answers server-sent events.
import { session } from "@/api/session";

export interface LiveFrame {
  type: string;
  data: Record<string, unknown>;
}

/** The frames of one `event: <type>` / `data: <json>` stream (comments are keepalives). */
export function parseFrames(buffer: string): { frames: LiveFrame[]; rest: string } {
  const frames: LiveFrame[] = [];
  const blocks = buffer.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let type = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trim());
    }
    if (data.length === 0) continue;
    frames.push({ type, data: JSON.parse(data.join("\n")) as Record<string, unknown> });
  }
  return { frames, rest };
}

export async function* chatStream(
  text: string,
  thread: string,
  signal: AbortSignal,
): AsyncGenerator<LiveFrame> {
  const response = await fetch("/api/chat/stream", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${session.accessToken() ?? ""}`,
    },
    body: JSON.stringify({ text, thread }),
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
