import { ArrowDown, ArrowUp, X } from "lucide-react";

import { Button } from "@/components/ui/button";

/** Move up, move down and remove for one item of an ordered list, named for screen readers. */
export function ReorderButtons({
  what,
  index,
  count,
  onMove,
  onRemove,
}: {
  what: string;
  index: number;
  count: number;
  onMove: (by: number) => void;
  onRemove: () => void;
}) {
  return (
    <span className="flex gap-1">
      <Button type="button" variant="outline" size="sm" disabled={index === 0} onClick={() => onMove(-1)}>
        <ArrowUp aria-hidden />
        <span className="sr-only">Move {what} up</span>
      </Button>
      <Button type="button" variant="outline" size="sm" disabled={index === count - 1} onClick={() => onMove(1)}>
        <ArrowDown aria-hidden />
        <span className="sr-only">Move {what} down</span>
      </Button>
      <Button type="button" variant="ghost" size="sm" onClick={onRemove}>
        <X aria-hidden />
        <span className="sr-only">Remove {what}</span>
      </Button>
    </span>
  );
}
