import { describe, expect, it } from "vitest";

import { turnsOf } from "./history";
import { parseFrames } from "./stream";
import { applyFrame, type Turn } from "./turns";

const start: Turn = { id: 1, said: "turn on the floor lamp", text: "", items: [], status: "working" };

describe("parseFrames", () => {
  it("reads whole frames, skips keepalives and keeps a partial frame for later", () => {
    const { frames, rest } = parseFrames(
      'event: task\ndata: {"task_id": 4}\n\n: keepalive\n\nevent: text\ndata: {"delta": "Hi"}\n\nevent: te',
    );
    expect(frames).toEqual([
      { type: "task", data: { task_id: 4 } },
      { type: "text", data: { delta: "Hi" } },
    ]);
    expect(rest).toBe("event: te");
  });
});

describe("applyFrame", () => {
  it("turns a run with an approval into cards and the final reply", () => {
    const frames = [
      { type: "task", data: { task_id: 4 } },
      { type: "tool_call", data: { server: "angie", tool: "ask_hue", call_id: "a", arguments: {} } },
      { type: "tool_call", data: { server: "hue", tool: "set_light", call_id: "b", arguments: { on: true } } },
      { type: "approval", data: { approval_id: 9, server: "hue", tool: "set_light", arguments: { on: true } } },
      { type: "reply", data: { kind: "approval_request", text: "May I?" } },
    ];
    const waiting = frames.reduce(applyFrame, start);
    expect(waiting.taskId).toBe(4);
    expect(waiting.status).toBe("waiting");
    expect(waiting.items.map((item) => item.kind)).toEqual(["tool", "approval"]);
    expect(waiting.text).toBe("");

    const done = [
      { type: "tool_result", data: { server: "angie", tool: "ask_hue", call_id: "a", ok: true } },
      { type: "text", data: { delta: "The lamp " } },
      { type: "text", data: { delta: "is on." } },
      { type: "reply", data: { kind: "result", text: "The lamp is on." } },
      { type: "done", data: { status: "succeeded" } },
    ].reduce(applyFrame, waiting);
    expect(done.status).toBe("done");
    expect(done.text).toBe("The lamp is on.");
    expect(done.items[0]).toMatchObject({ kind: "tool", ok: true });
  });

  it("shows an error frame as a failed turn", () => {
    const failed = applyFrame(start, { type: "error", data: { message: "task 4 is gone" } });
    expect(failed).toMatchObject({ status: "failed", error: "task 4 is gone" });
  });
});

describe("turnsOf", () => {
  it("pairs what the person said with Angie's last answer to it", () => {
    const at = "2026-12-04T10:00:00Z";
    const turns = turnsOf([
      { id: 1, role: "user", content: "turn on the floor lamp", task_id: 3, created_at: at },
      { id: 2, role: "assistant", content: "May I switch it on?", task_id: 3, created_at: at },
      { id: 3, role: "assistant", content: "The floor lamp is on.", task_id: 3, created_at: at },
      { id: 4, role: "user", content: "thanks", task_id: 5, created_at: at },
    ]);
    expect(turns.map((turn) => [turn.said, turn.text, turn.taskId])).toEqual([
      ["turn on the floor lamp", "The floor lamp is on.", 3],
      ["thanks", "", 5],
    ]);
  });
});
