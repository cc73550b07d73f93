import { act, fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes, useParams } from "react-router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { fakeAngie, page } from "@/test/fake-angie";

import { ROW_HEIGHT, TaskListPage } from "./task-list";

const TOTAL = 10_000;
const VIEW = 560; // the scrolling list's height in these tests: ten rows

function task(id: number) {
  return {
    id,
    kind: "chat",
    status: id % 10 === 3 ? "failed" : "succeeded",
    agent_id: null,
    agent: null,
    team_id: null,
    workflow_id: null,
    parent_id: null,
    event_id: null,
    input: { text: `turn on lamp ${id}` },
    result: null,
    error: null,
    attempts: 1,
    max_attempts: 3,
    channel: null,
    thread: null,
    created_at: "2026-12-04T10:00:00Z",
    updated_at: "2026-12-04T10:00:00Z",
    started_at: null,
    finished_at: null,
    input_tokens: null,
    output_tokens: null,
    cost_usd: null,
  };
}

/** The API's pages of TOTAL tasks, newest (the highest id) first. */
function tasksPage(query: URLSearchParams) {
  const limit = Number(query.get("limit"));
  const offset = Number(query.get("offset"));
  const items = [];
  for (let i = offset; i < Math.min(TOTAL, offset + limit); i++) items.push(task(TOTAL - i));
  return { items, total: TOTAL, limit, offset };
}

// jsdom lays nothing out: elements get the size a browser would give the list's scroller
// (the virtualizer reads clientHeight/clientWidth of it, and offsetHeight of a drawn row).
const SIZES = { clientHeight: VIEW, clientWidth: 800, offsetHeight: ROW_HEIGHT, offsetWidth: 800 };
const own = Object.fromEntries(
  Object.keys(SIZES).map((name) => [name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name)]),
);
beforeAll(() => {
  for (const [name, value] of Object.entries(SIZES)) {
    Object.defineProperty(HTMLElement.prototype, name, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const [name, descriptor] of Object.entries(own)) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
  }
});

function Detail() {
  return <h1>Task #{useParams().taskId}</h1>;
}

function open(path = "/tasks") {
  return page(
    <Routes>
      <Route path="/tasks" element={<TaskListPage />} />
      <Route path="/tasks/:taskId" element={<Detail />} />
    </Routes>,
    path,
  );
}

function scrollTo(top: number) {
  const scroller = screen.getByRole("table", { name: "Tasks" });
  Object.defineProperty(scroller, "scrollTop", { configurable: true, writable: true, value: top });
  fireEvent.scroll(scroller);
}

describe("TaskListPage", () => {
  it("says how many tasks there are and draws only the rows in view", async () => {
    const fake = fakeAngie({ "GET /api/tasks": (_body, _params, query) => tasksPage(query) });
    open();
    expect(await screen.findByText("10,000 tasks")).toBeVisible();
    const table = screen.getByRole("table", { name: "Tasks" });
    expect(table).toHaveAttribute("aria-rowcount", "10000");
    const rows = await within(table).findAllByRole("row");
    expect(rows.length).toBeGreaterThanOrEqual(VIEW / ROW_HEIGHT);
    expect(rows.length).toBeLessThan(40);
    expect(rows[0]).toHaveAttribute("aria-rowindex", "1");
    expect(within(rows[0]!).getByRole("link", { name: "#10000" })).toHaveAttribute("href", "/tasks/10000");
    const [first] = fake.sent;
    expect(Object.fromEntries(first!.query)).toEqual({ limit: "100", offset: "0", sort: "-created_at" });
  });

  it("asks for the next page as the person scrolls, saying it is loading more", async () => {
    let release = () => {};
    const fake = fakeAngie({
      "GET /api/tasks": (_body, _params, query) =>
        query.get("offset") === "0"
          ? tasksPage(query)
          : new Promise((resolve) => (release = () => resolve(tasksPage(query)))),
    });
    open();
    await screen.findByRole("link", { name: "#10000" });
    expect(fake.sent).toHaveLength(1);

    scrollTo(95 * ROW_HEIGHT);
    expect(await screen.findByRole("status")).toHaveTextContent("Loading more…");
    expect(fake.sent.map((s) => s.query.get("offset"))).toEqual(["0", "100"]);
    const far = screen.getAllByRole("row").map((row) => Number(row.getAttribute("aria-rowindex")));
    expect(Math.min(...far)).toBeGreaterThan(80);

    act(() => release());
    expect(await screen.findByRole("link", { name: "#9899" })).toBeVisible();
    expect(screen.getByRole("status")).toHaveTextContent("");
  });

  it("keeps its filters and order in the URL and sends them to Angie", async () => {
    const fake = fakeAngie({ "GET /api/tasks": (_body, _params, query) => tasksPage(query) });
    open("/tasks?kind=agent&agent_id=3&sort=created_at&since=2026-12-01");
    await screen.findByRole("link", { name: "#10000" });
    const sent = fake.sent[0]!.query;
    expect(sent.get("kind")).toBe("agent");
    expect(sent.get("agent_id")).toBe("3");
    expect(sent.get("sort")).toBe("created_at");
    expect(sent.get("since")).toBe(new Date("2026-12-01T00:00").toISOString());
    expect(screen.getByLabelText("Order")).toHaveValue("created_at");

    scrollTo(30 * ROW_HEIGHT);
    await userEvent.selectOptions(screen.getByLabelText("Status"), "failed");
    // Another list starts from its top.
    expect(screen.getByRole("table", { name: "Tasks" }).scrollTop).toBe(0);
    await screen.findByRole("link", { name: "#10000" });
    const last = fake.sent.at(-1)!.query;
    expect(last.getAll("status")).toEqual(["failed"]);
    expect(last.get("offset")).toBe("0");
    expect(last.get("agent_id")).toBe("3");

    await userEvent.click(screen.getByRole("button", { name: "Agent #3 only — show all" }));
    await screen.findByRole("link", { name: "#10000" });
    expect(fake.sent.at(-1)!.query.get("agent_id")).toBeNull();
  });

  it("moves between rows with the arrow keys and opens one with Enter", async () => {
    fakeAngie({ "GET /api/tasks": (_body, _params, query) => tasksPage(query) });
    open();
    const first = await screen.findByRole("link", { name: "#10000" });
    expect(screen.getByRole("link", { name: "#9999" })).toHaveAttribute("tabindex", "-1");
    expect(first).toHaveAttribute("tabindex", "0");
    act(() => first.focus());
    await userEvent.keyboard("{ArrowDown}{ArrowDown}{ArrowUp}");
    expect(screen.getByRole("link", { name: "#9999" })).toHaveFocus();
    expect(screen.getByRole("link", { name: "#9999" })).toHaveAttribute("tabindex", "0");
    await userEvent.keyboard("{Enter}");
    expect(await screen.findByRole("heading", { name: "Task #9999" })).toBeVisible();
  });

  it("says so when no task matches", async () => {
    fakeAngie({ "GET /api/tasks": () => ({ items: [], total: 0, limit: 100, offset: 0 }) });
    open("/tasks?status=cancelled");
    expect(await screen.findByText("No tasks cancelled.")).toBeVisible();
    expect(screen.getByText("0 tasks")).toBeVisible();
  });
});
