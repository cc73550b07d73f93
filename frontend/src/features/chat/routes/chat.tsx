import { useConversation } from "../api/conversation";
import { Conversation } from "../components/conversation";

const THREAD = "web";

export function ChatPage() {
  const chat = useConversation(THREAD);
  return (
    <section className="mx-auto flex h-full max-w-3xl flex-col gap-4">
      <h1 className="text-xl font-semibold">Chat</h1>
      <Conversation
        id="say"
        turns={chat.turns}
        empty={
          chat.empty ? (
            <p className="text-muted-foreground">
              Ask Angie anything: “turn on the floor lamp”, “what is on my calendar today?”
            </p>
          ) : null
        }
        onSend={(said) => void chat.send(said)}
      />
    </section>
  );
}
