import { CheckCircle2, Loader2, Wrench, XCircle } from "lucide-react";

import type { ToolCard as Card } from "../api/turns";

/** One tool call Angie made, inline in her answer. */
export function ToolCard({ call }: { call: Card }) {
  const state = call.ok === undefined ? "running" : call.ok ? "done" : "failed";
  return (
    <details className="rounded-md border bg-muted/40 px-3 py-2 text-sm">
      <summary className="flex cursor-pointer items-center gap-2">
        <Wrench className="size-4" aria-hidden />
        <span className="font-mono">
          {call.server}.{call.tool}
        </span>
        <span className="ml-auto flex items-center gap-1 text-xs text-muted-foreground">
          {state === "running" ? (
            <Loader2 className="size-3 animate-spin" aria-hidden />
          ) : state === "done" ? (
            <CheckCircle2 className="size-3 text-success" aria-hidden />
          ) : (
            <XCircle className="size-3 text-destructive" aria-hidden />
          )}
          {state}
        </span>
      </summary>
      <pre className="mt-2 overflow-x-auto text-xs">{JSON.stringify(call.arguments, null, 2)}</pre>
      {call.error ? <p className="mt-1 text-xs text-destructive">{call.error}</p> : null}
    </details>
  );
}
