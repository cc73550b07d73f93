import { Badge } from "@/components/ui/badge";

const VARIANTS = {
  succeeded: "success",
  failed: "destructive",
  cancelled: "secondary",
  awaiting_approval: "outline",
  running: "default",
  queued: "secondary",
} as const;

/** A task's status, as a word people read. */
export function StatusBadge({ status }: { status: string }) {
  const variant = VARIANTS[status as keyof typeof VARIANTS] ?? "outline";
  return <Badge variant={variant}>{status.replace("_", " ")}</Badge>;
}
