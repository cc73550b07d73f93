// One conversation as a page holds it: the turns so far (from Angie's record, then this page's)
// and sending a new one, followed live until Angie is done.
import { useEffect, useRef, useState } from "react";

import { useHistory } from "./history";
import { chatStream, type PageContext } from "./stream";
import { applyFrame, type Turn } from "./turns";

export function useConversation(thread: string) {
  const history = useHistory(thread);
  const [turns, setTurns] = useState<Turn[]>([]);
  const streams = useRef(new Set<AbortController>());
  const next = useRef(1);

  useEffect(() => {
    const open = streams.current;
    return () => open.forEach((controller) => controller.abort());
  }, []);

  async function send(said: string, context?: PageContext) {
    const id = next.current++;
    const update = (change: (turn: Turn) => Turn) =>
      setTurns((all) => all.map((turn) => (turn.id === id ? change(turn) : turn)));
    const about = context ? `${context.kind} ${context.id}` : undefined;
    setTurns((all) => [...all, { id, said, about, text: "", items: [], status: "working" }]);
    const controller = new AbortController();
    streams.current.add(controller);
    try {
      for await (const frame of chatStream(said, thread, controller.signal, context)) {
        update((turn) => applyFrame(turn, frame));
      }
    } catch (err) {
      if (!controller.signal.aborted) {
        const message = err instanceof Error ? err.message : String(err);
        update((turn) => ({ ...turn, status: "failed", error: message }));
      }
    } finally {
      streams.current.delete(controller);
    }
  }

  return {
    turns: [...(history.data ?? []), ...turns],
    /** Angie's record says there is nothing yet, and nothing was said here. */
    empty: turns.length === 0 && history.data?.length === 0,
    send,
  };
}
