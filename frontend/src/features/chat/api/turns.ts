// A chat as the page shows it: what the person said and what Angie did and answered, built from
// the live frames of her work.
import type { LiveFrame } from "./stream";

export interface ToolCard {
  kind: "tool";
  callId: string;
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  ok?: boolean;
  error?: string | null;
}

export interface ApprovalItem {
  kind: "approval";
  approvalId: number;
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
}

export interface Turn {
  id: number;
  said: string;
  /** What the person was looking at as they said it ("task 12"), when Angie was told. */
  about?: string;
  taskId?: number;
  text: string;
  items: (ToolCard | ApprovalItem)[];
  status: "working" | "waiting" | "done" | "failed";
  error?: string;
}

const str = (value: unknown) => (typeof value === "string" ? value : "");
const obj = (value: unknown) =>
  value && typeof value === "object" ? (value as Record<string, unknown>) : {};

/** The turn after one frame of Angie's work on it. */
export function applyFrame(turn: Turn, frame: LiveFrame): Turn {
  const data = frame.data;
  switch (frame.type) {
    case "task":
      return { ...turn, taskId: Number(data.task_id) };
    case "text":
      return { ...turn, status: "working", text: turn.text + str(data.delta) };
    case "tool_call":
      return {
        ...turn,
        status: "working",
        items: [
          ...turn.items,
          {
            kind: "tool",
            callId: str(data.call_id) || `${turn.items.length}`,
            server: str(data.server),
            tool: str(data.tool),
            arguments: obj(data.arguments),
          },
        ],
      };
    case "tool_result":
      return {
        ...turn,
        items: turn.items.map((item) =>
          item.kind === "tool" && item.callId === str(data.call_id) && item.ok === undefined
            ? { ...item, ok: Boolean(data.ok), error: str(data.error) || null }
            : item,
        ),
      };
    case "approval":
      return {
        ...turn,
        status: "waiting",
        // The call waits for approval: its card is the approval card.
        items: [
          ...turn.items.filter(
            (item) =>
              !(item.kind === "tool" && item.ok === undefined && item.tool === str(data.tool)),
          ),
          {
            kind: "approval",
            approvalId: Number(data.approval_id),
            server: str(data.server),
            tool: str(data.tool),
            arguments: obj(data.arguments),
          },
        ],
      };
    case "reply":
      if (data.kind === "approval_request") return { ...turn, status: "waiting" };
      return { ...turn, text: str(data.text) };
    case "done":
      return { ...turn, status: data.status === "succeeded" ? "done" : "failed" };
    case "error":
      return { ...turn, status: "failed", error: str(data.message) };
    default:
      return turn;
  }
}
