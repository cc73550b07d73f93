import { MessageCircle } from "lucide-react";
import { useRef, useState } from "react";
import { useLocation } from "react-router";

import { Button } from "@/components/ui/button";
import { Sheet, SheetContent, SheetDescription, SheetTitle, SheetTrigger } from "@/components/ui/sheet";

import { useConversation } from "../api/conversation";
import { subjectOf } from "../api/subject";
import { Conversation } from "./conversation";

// Its own thread: questions about pages do not mix into the main chat.
const SIDEKICK_THREAD = "sidekick";

/** Angie beside every page: a panel to ask her about what is on screen ("why did this fail?"),
 * told what the page shows unless the person unticks it. */
export function Sidekick() {
  const { pathname } = useLocation();
  const subject = subjectOf(pathname);
  const [told, setTold] = useState(true);
  const chat = useConversation(SIDEKICK_THREAD);
  const input = useRef<HTMLTextAreaElement>(null);
  const about = subject ? `${subject.kind} ${subject.id}` : null;
  return (
    <Sheet>
      <SheetTrigger asChild>
        <Button variant="outline" size="sm" aria-label="Ask Angie about this page">
          <MessageCircle aria-hidden /> Ask
        </Button>
      </SheetTrigger>
      <SheetContent
        aria-describedby="sidekick-about"
        closeLabel="Close Ask Angie"
        onOpenAutoFocus={(event) => {
          event.preventDefault();
          input.current?.focus();
        }}
      >
        <SheetTitle>Ask Angie</SheetTitle>
        <SheetDescription id="sidekick-about">
          {about ? `You are looking at ${about}.` : "This page shows no one task, workflow, agent, team or event."}
        </SheetDescription>
        <Conversation
          id="sidekick-say"
          className="min-h-0 flex-1 overflow-y-auto"
          turns={chat.turns}
          inputRef={input}
          placeholder={about ? `Ask about ${about} (Enter to send)` : "Message Angie (Enter to send)"}
          empty={chat.empty ? <p className="text-sm text-muted-foreground">Try “why did this fail?” on a task’s page.</p> : null}
          above={
            about ? (
              <label className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={told} onChange={(event) => setTold(event.target.checked)} />
                Tell Angie I am looking at {about}
              </label>
            ) : null
          }
          onSend={(said) => void chat.send(said, told ? subject : undefined)}
        />
      </SheetContent>
    </Sheet>
  );
}
