import { useState } from "react";
import { Link } from "react-router";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { when } from "@/lib/utils";

import { EVENT_TYPES, type EventType, PAGE_SIZE, useEvents } from "../api/events";

const STATUS = { routed: "success", failed: "destructive", ignored: "secondary", received: "outline" } as const;

function summary(payload: Record<string, unknown>): string {
  const text = payload.text ?? payload.instruction ?? payload.name ?? payload.subject;
  return typeof text === "string" ? text : "";
}

/** What happened on your behalf, newest first, each with the task it made. */
export function EventList() {
  const [type, setType] = useState<EventType | "">("");
  const [page, setPage] = useState(0);
  const events = useEvents(type, page);
  const total = events.data?.total ?? 0;
  return (
    <section aria-labelledby="past-events" className="grid gap-3">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <h2 id="past-events" className="text-lg font-semibold">
          Past events
        </h2>
        <div className="grid gap-1">
          <label htmlFor="event-type" className="text-sm font-medium">
            Type
          </label>
          <select
            id="event-type"
            className="h-9 rounded-md border border-input bg-background px-2 text-sm"
            value={type}
            onChange={(e) => {
              setType(e.target.value as EventType | "");
              setPage(0);
            }}
          >
            <option value="">Any</option>
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </div>
      {events.isError ? <Alert>{events.error.message}</Alert> : null}
      {events.data?.items.length === 0 ? <p className="text-muted-foreground">No events.</p> : null}
      <ul className="divide-y rounded-md border" aria-label="Events">
        {events.data?.items.map((event) => (
          <li key={event.id} className="flex flex-wrap items-center gap-2 px-3 py-2 text-sm">
            <span className="w-12 text-xs text-muted-foreground">#{event.id}</span>
            <Badge variant="outline">{event.type}</Badge>
            <Badge variant={STATUS[event.status]}>{event.status}</Badge>
            <span className="min-w-0 flex-1 truncate">{summary(event.payload) || event.source}</span>
            {event.error ? <span className="text-destructive">{event.error}</span> : null}
            {event.task_id ? (
              <Link to={`/tasks/${event.task_id}`} className="underline">
                task #{event.task_id}
              </Link>
            ) : null}
            <span className="text-xs text-muted-foreground">{when(event.created_at)}</span>
          </li>
        ))}
      </ul>
      {total > PAGE_SIZE ? (
        <nav aria-label="Event pages" className="flex items-center gap-2">
          <Button variant="outline" size="sm" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Newer
          </Button>
          <span className="text-sm text-muted-foreground">
            {page * PAGE_SIZE + 1}–{Math.min(total, (page + 1) * PAGE_SIZE)} of {total}
          </span>
          <Button variant="outline" size="sm" disabled={(page + 1) * PAGE_SIZE >= total} onClick={() => setPage(page + 1)}>
            Older
          </Button>
        </nav>
      ) : null}
    </section>
  );
}
