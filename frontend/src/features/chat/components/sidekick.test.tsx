import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { subjectOf } from "../api/subject";
import { Sidekick } from "./sidekick";

/** Angie's answer as the stream sends it: her task, a tool call and its result, the reply. */
function answer(taskId: number, reply: string): Response {
  const frames = [
    ["task", { task_id: taskId, conversation_id: 3 }],
    ["tool_call", { call_id: "c1", server: "angie", tool: "get_task", arguments: { task_id: 42 } }],
    ["tool_result", { call_id: "c1", ok: true }],
    ["reply", { text: reply, kind: "result" }],
    ["done", { status: "succeeded" }],
  ] as const;
  const body = frames.map(([type, data]) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`).join("");
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

function angie() {
  let task = 100;
  return fakeAngie({
    "GET /api/conversations": () => list([]),
    "POST /api/chat/stream": () => answer(++task, "The Hue bridge did not answer."),
  });
}

describe("Sidekick", () => {
  it("asks Angie about the task on screen, with the task as context, and closes with Escape", async () => {
    const fake = angie();
    page(<Sidekick />, "/tasks/42");
    const open = screen.getByRole("button", { name: "Ask Angie about this page" });
    expect(open).toHaveAttribute("aria-expanded", "false");

    await userEvent.click(open);

    const panel = await screen.findByRole("dialog", { name: "Ask Angie" });
    expect(panel).toHaveAccessibleDescription("You are looking at task 42.");
    expect(open).toHaveAttribute("aria-expanded", "true");
    const say = within(panel).getByLabelText("Message to Angie");
    expect(say).toHaveFocus();
    await userEvent.type(say, "why did this fail?{Enter}");

    expect(await within(panel).findByTestId("reply")).toHaveTextContent("The Hue bridge did not answer.");
    expect(within(panel).getByText("about task 42")).toBeVisible();
    expect(within(panel).getByText("angie.get_task")).toBeVisible();
    expect(within(panel).getByRole("link", { name: "Task 101" })).toHaveAttribute("href", "/tasks/101");
    expect(fake.to("POST", "/api/chat/stream")).toEqual([
      { text: "why did this fail?", thread: "sidekick", context: { kind: "task", id: 42 } },
    ]);

    // Unticked, the page is not told.
    await userEvent.click(within(panel).getByLabelText("Tell Angie I am looking at task 42"));
    await userEvent.type(say, "and in general?{Enter}");
    await screen.findByRole("link", { name: "Task 102" });
    expect(fake.to("POST", "/api/chat/stream")[1]).toEqual({ text: "and in general?", thread: "sidekick" });

    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(open).toHaveFocus();
  });

  it("on a page of many things sends no context", async () => {
    const fake = angie();
    page(<Sidekick />, "/settings/webhooks");
    await userEvent.click(screen.getByRole("button", { name: "Ask Angie about this page" }));
    const panel = await screen.findByRole("dialog", { name: "Ask Angie" });
    expect(panel).toHaveAccessibleDescription("This page shows no one task, workflow, agent, team or event.");
    expect(within(panel).queryByRole("checkbox")).toBeNull();

    await userEvent.type(within(panel).getByLabelText("Message to Angie"), "hello{Enter}");

    await within(panel).findByTestId("reply");
    expect(fake.to("POST", "/api/chat/stream")).toEqual([{ text: "hello", thread: "sidekick" }]);
  });

  it("reads the subject from the page's address", () => {
    expect(subjectOf("/tasks/7")).toEqual({ kind: "task", id: 7 });
    expect(subjectOf("/workflows/3")).toEqual({ kind: "workflow", id: 3 });
    expect(subjectOf("/agents/12")).toEqual({ kind: "agent", id: 12 });
    expect(subjectOf("/workflows/new")).toBeUndefined();
    expect(subjectOf("/tasks/0")).toBeUndefined();
    expect(subjectOf("/tasks/99999999999")).toBeUndefined();
    expect(subjectOf("/tasks")).toBeUndefined();
  });
});
