// The chat so far, from Angie's record of the conversation: what a reload shows.
import { useQuery } from "@tanstack/react-query";

import { api, data, type Schemas } from "@/api/client";

import type { Turn } from "./turns";

const SHOWN = 50;

/** Turns from messages, oldest first: each thing the person said with Angie's last answer. */
export function turnsOf(messages: Schemas["MessageOut"][]): Turn[] {
  const turns: Turn[] = [];
  for (const message of messages) {
    if (message.role === "user") {
      turns.push({
        id: -message.id,
        said: message.content,
        taskId: message.task_id ?? undefined,
        text: "",
        items: [],
        status: "done",
      });
    } else if (message.role === "assistant" && turns.length > 0) {
      const last = turns[turns.length - 1]!;
      turns[turns.length - 1] = { ...last, text: message.content, taskId: last.taskId ?? message.task_id ?? undefined };
    }
  }
  return turns;
}

export function useHistory(thread: string) {
  return useQuery({
    queryKey: ["chat-history", thread],
    staleTime: Infinity,
    queryFn: async () => {
      const conversations = await data(
        api.GET("/api/conversations", { params: { query: { channel: "api", limit: 100 } } }),
      );
      const conversation = conversations.items.find((item) => item.thread === thread);
      if (!conversation) return [];
      const page = await data(
        api.GET("/api/conversations/{conversation_id}/messages", {
          params: {
            path: { conversation_id: conversation.id },
            query: { sort: "-id", limit: SHOWN },
          },
        }),
      );
      return turnsOf([...page.items].reverse());
    },
  });
}
