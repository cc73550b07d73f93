// What a page of the app shows, read from its address: the subject the sidekick tells Angie about.
import { matchPath } from "react-router";

import type { PageContext } from "./stream";

// The pages that show one thing, and the kind of thing.
const SUBJECTS: { path: string; kind: PageContext["kind"] }[] = [
  { path: "/tasks/:id", kind: "task" },
  { path: "/workflows/:id", kind: "workflow" },
  { path: "/agents/:id", kind: "agent" },
  { path: "/teams/:id", kind: "team" },
  { path: "/events/:id", kind: "event" },
];

/** What the page at `pathname` shows, if it shows one task, workflow, agent, team or event. */
export function subjectOf(pathname: string): PageContext | undefined {
  for (const { path, kind } of SUBJECTS) {
    const id = matchPath(path, pathname)?.params.id;
    // "/workflows/new" and the like show nothing yet.
    if (id && /^[1-9][0-9]{0,9}$/.test(id) && Number(id) <= 2 ** 31 - 1) return { kind, id: Number(id) };
  }
  return undefined;
}
