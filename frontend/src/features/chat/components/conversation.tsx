import { SendHorizontal } from "lucide-react";
import { type FormEvent, type KeyboardEvent, type ReactNode, type Ref, useState } from "react";

import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/textarea";
import { cn } from "@/lib/utils";

import type { Turn } from "../api/turns";
import { ChatTurn } from "./chat-turn";

/** The turns of a conversation and the box to say the next thing (Enter sends, Shift+Enter
 * starts a new line); `empty` shows before them (null once there is a conversation), `above`
 * between them and the box. */
export function Conversation({
  id,
  turns,
  empty,
  onSend,
  placeholder = "Message Angie (Enter to send)",
  inputRef,
  above,
  className,
}: {
  id: string;
  turns: Turn[];
  empty: ReactNode;
  onSend: (said: string) => void;
  placeholder?: string;
  inputRef?: Ref<HTMLTextAreaElement>;
  above?: ReactNode;
  className?: string;
}) {
  const [text, setText] = useState("");

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const said = text.trim();
    if (!said) return;
    setText("");
    onSend(said);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey) submit(event);
  }

  return (
    <div className={cn("flex flex-col gap-4", className)}>
      {empty}
      <ol className="grid gap-6" aria-label="Conversation">
        {turns.map((turn) => (
          <ChatTurn key={turn.id} turn={turn} />
        ))}
      </ol>
      <div className="sticky bottom-0 grid gap-2 bg-background py-2">
        {above}
        <form className="flex gap-2" onSubmit={submit}>
          <label htmlFor={id} className="sr-only">
            Message to Angie
          </label>
          <Textarea
            id={id}
            ref={inputRef}
            rows={2}
            placeholder={placeholder}
            value={text}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={onKeyDown}
          />
          <Button type="submit" aria-label="Send" disabled={!text.trim()}>
            <SendHorizontal aria-hidden />
          </Button>
        </form>
      </div>
    </div>
  );
}
