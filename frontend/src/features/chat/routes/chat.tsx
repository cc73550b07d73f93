import { SendHorizontal } from "lucide-react";
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";

import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/textarea";

import { useHistory } from "../api/history";
import { chatStream } from "../api/stream";
import { applyFrame, type Turn } from "../api/turns";
import { ChatTurn } from "../components/chat-turn";

const THREAD = "web";

export function ChatPage() {
  const history = useHistory(THREAD);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [text, setText] = useState("");
  const streams = useRef(new Set<AbortController>());
  const next = useRef(1);

  useEffect(() => {
    const open = streams.current;
    return () => open.forEach((controller) => controller.abort());
  }, []);

  async function send(said: string) {
    const id = next.current++;
    const update = (change: (turn: Turn) => Turn) =>
      setTurns((all) => all.map((turn) => (turn.id === id ? change(turn) : turn)));
    setTurns((all) => [...all, { id, said, text: "", items: [], status: "working" }]);
    const controller = new AbortController();
    streams.current.add(controller);
    try {
      for await (const frame of chatStream(said, THREAD, controller.signal)) {
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

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const said = text.trim();
    if (!said) return;
    setText("");
    void send(said);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter starts a new line.
    if (event.key === "Enter" && !event.shiftKey) submit(event);
  }

  return (
    <section className="mx-auto flex h-full max-w-3xl flex-col gap-4">
      <h1 className="text-xl font-semibold">Chat</h1>
      {turns.length === 0 && history.data?.length === 0 ? (
        <p className="text-muted-foreground">
          Ask Angie anything: “turn on the floor lamp”, “what is on my calendar today?”
        </p>
      ) : null}
      <ol className="grid gap-6" aria-label="Conversation">
        {[...(history.data ?? []), ...turns].map((turn) => (
          <ChatTurn key={turn.id} turn={turn} />
        ))}
      </ol>
      <form className="sticky bottom-0 flex gap-2 bg-background py-2" onSubmit={submit}>
        <label htmlFor="say" className="sr-only">
          Message to Angie
        </label>
        <Textarea
          id="say"
          rows={2}
          placeholder="Message Angie (Enter to send)"
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <Button type="submit" aria-label="Send" disabled={!text.trim()}>
          <SendHorizontal aria-hidden />
        </Button>
      </form>
    </section>
  );
}
