import { Link } from "react-router";

import { ApprovalCard } from "@/components/approval-card";
import { Alert } from "@/components/ui/alert";

import type { Turn } from "../api/turns";
import { ToolCard } from "./tool-card";

export function ChatTurn({ turn }: { turn: Turn }) {
  return (
    <li className="grid gap-2">
      <p className="ml-auto max-w-[85%] rounded-lg bg-primary px-3 py-2 text-primary-foreground">
        {turn.said}
      </p>
      {turn.about ? <p className="ml-auto text-xs text-muted-foreground">about {turn.about}</p> : null}
      <div className="grid max-w-[85%] gap-2" aria-live="polite">
        {turn.items.map((item) =>
          item.kind === "tool" ? (
            <ToolCard key={`tool-${item.callId}`} call={item} />
          ) : (
            <ApprovalCard
              key={`approval-${item.approvalId}`}
              ask={{
                id: item.approvalId,
                server: item.server,
                tool: item.tool,
                arguments: item.arguments,
              }}
            />
          ),
        )}
        {turn.text ? (
          <p className="whitespace-pre-wrap rounded-lg bg-muted px-3 py-2" data-testid="reply">
            {turn.text}
          </p>
        ) : null}
        {turn.status === "working" && !turn.text ? (
          <p role="status" className="text-sm text-muted-foreground">
            Angie is working…
          </p>
        ) : null}
        {turn.error ? <Alert>{turn.error}</Alert> : null}
        {turn.taskId ? (
          <Link to={`/tasks/${turn.taskId}`} className="text-xs text-muted-foreground underline">
            Task {turn.taskId}
          </Link>
        ) : null}
      </div>
    </li>
  );
}
