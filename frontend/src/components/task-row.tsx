import { type ComponentProps, memo } from "react";
import { Link } from "react-router";

import type { Schemas } from "@/api/client";
import { StatusBadge } from "@/components/status-badge";
import { cn, when } from "@/lib/utils";

type Task = Pick<Schemas["TaskOut"], "id" | "status" | "input" | "agent" | "kind" | "created_at">;

/** What a task was asked, in one line. */
function summary(input: Record<string, unknown>): string {
  const text = input.text ?? input.request ?? input.instruction;
  return typeof text === "string" ? text : JSON.stringify(input);
}

// The pointer shows as a bar, not a background: the status badges keep their contrast.
export const TASK_ROW_CLASS =
  "relative flex w-full items-center gap-2 border-b px-3 hover:shadow-[inset_3px_0_0_var(--color-ring)] focus-within:ring-2 focus-within:ring-inset focus-within:ring-ring";

// A list that scrolls draws its rows again every frame: a row already drawn is kept as it is
// (its time, formatted by Intl, is the costly part).
const Cells = memo(function Cells({ task, focusable }: { task: Task; focusable: boolean }) {
  return (
    <>
      <div role="cell" className="w-14 shrink-0">
        {/* The link covers the whole row (after:inset-0), so a click anywhere opens the task. */}
        <Link
          to={`/tasks/${task.id}`}
          tabIndex={focusable ? 0 : -1}
          className="text-xs text-muted-foreground after:absolute after:inset-0 after:content-[''] focus-visible:outline-none"
        >
          #{task.id}
        </Link>
      </div>
      <div role="cell" className="w-32 shrink-0">
        <StatusBadge status={task.status} />
      </div>
      <div role="cell" className="grid min-w-0 flex-1">
        <span className="truncate">{summary(task.input)}</span>
        <span className="truncate text-xs text-muted-foreground">
          {task.agent ?? task.kind} · {when(task.created_at)}
        </span>
      </div>
    </>
  );
});

/** One task as a row of a `role="table"`: its number (a link covering the row), its status, what
 * it was asked, who ran it and when. `focusable: false` leaves it out of the tab order (a list
 * with a roving tabindex). */
export function TaskRow({
  task,
  focusable = true,
  className,
  ...row
}: { task: Task; focusable?: boolean } & ComponentProps<"div">) {
  return (
    <div role="row" className={cn(TASK_ROW_CLASS, className)} {...row}>
      <Cells task={task} focusable={focusable} />
    </div>
  );
}
