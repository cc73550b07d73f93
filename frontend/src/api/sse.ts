// Server-sent events read with fetch (an EventSource cannot send the access token).

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
