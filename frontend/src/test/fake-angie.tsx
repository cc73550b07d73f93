// A fake Angie for page tests: answers the typed client's requests from a table of routes
// and records what each page sent, so a wrong path, method or body fails the test.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";

export type Sent = { method: string; path: string; query: URLSearchParams; body: unknown };
type Answer = unknown | { status: number; body?: unknown };
// A route may answer later (a promise), to show what a page does while it waits.
type Route = (body: unknown, params: Record<string, string>, query: URLSearchParams) => Answer;

let current: FakeAngie | null = null;

/** Routes are "METHOD /api/path/{param}" (a route also gets the query string); an answer is
 * the JSON body (200), `{ status, body }` for anything else, or a whole Response (a stream).
 * An unknown route answers 404, like Angie. */
export class FakeAngie {
  readonly sent: Sent[] = [];
  constructor(private readonly routes: Record<string, Route>) {}

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    this.sent.push({ method: request.method, path: url.pathname, query: url.searchParams, body });
    for (const [key, route] of Object.entries(this.routes)) {
      const [method, pattern = ""] = key.split(" ");
      const params = match(pattern, url.pathname);
      if (method !== request.method || params === null) continue;
      const answer = await route(body, params, url.searchParams);
      // A stream (server-sent events) is answered as the route made it.
      if (answer instanceof Response) return answer;
      if (answer && typeof answer === "object" && "status" in answer && typeof answer.status === "number") {
        const { status, body: payload } = answer as { status: number; body?: unknown };
        return json(status, payload);
      }
      return json(200, answer);
    }
    return json(404, { error: { message: `no route ${request.method} ${url.pathname}` } });
  }

  /** What was sent with this method to this path. */
  to(method: string, path: string): unknown[] {
    return this.sent.filter((s) => s.method === method && s.path === path).map((s) => s.body);
  }
}

/** A fake Angie that answers this test's requests. */
export function fakeAngie(routes: Record<string, Route>): FakeAngie {
  current = new FakeAngie(routes);
  return current;
}

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) params[name] = decodeURIComponent(got[i] ?? "");
    else if (part !== got[i]) return null;
  }
  return params;
}

function json(status: number, body: unknown): Response {
  if (status === 204 || body === undefined) return new Response(null, { status });
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** The fetch the API client was built with (see setup.ts): the current fake answers. */
export function fakeFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (!current) throw new Error("no FakeAngie for this test");
  // A page fetches "/api/…" against its own address, as a browser resolves it.
  const url = typeof input === "string" ? new URL(input, window.location.origin) : input;
  return current.fetch(url instanceof Request ? url : new Request(url, init));
}

/** A page rendered as the app renders it; ``client`` is its query client, which a test tells
 * what live updates would (``client.invalidateQueries``). */
export function page(element: ReactElement, path = "/") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const rendered = render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>{element}</MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...rendered, client };
}

export function list<T>(items: T[]) {
  return { items, total: items.length, limit: Math.max(1, items.length), offset: 0 };
}
