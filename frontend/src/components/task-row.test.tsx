import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";

import { TaskRow } from "./task-row";

const task = {
  id: 42,
  status: "failed" as const,
  input: { text: "turn on the porch light" },
  agent: "hue",
  kind: "agent" as const,
  created_at: "2026-12-01T10:00:00Z",
};

describe("TaskRow", () => {
  it("shows a task's number as its link, its status, what it was asked and who ran it", () => {
    render(
      <MemoryRouter>
        <div role="table" aria-label="Tasks">
          <TaskRow task={task} />
          <TaskRow task={{ ...task, id: 43, agent: null, input: { steps: 2 } }} focusable={false} />
        </div>
      </MemoryRouter>,
    );
    const [first, second] = screen.getAllByRole("row");
    expect(screen.getByRole("link", { name: "#42" })).toHaveAttribute("href", "/tasks/42");
    expect(first).toHaveTextContent("failed");
    expect(first).toHaveTextContent("turn on the porch light");
    expect(first).toHaveTextContent(/^#42failedturn on the porch lighthue · /);
    // Without words to show, what it was given; without an agent, its kind.
    expect(second).toHaveTextContent('{"steps":2}agent · ');
    expect(screen.getByRole("link", { name: "#43" })).toHaveAttribute("tabindex", "-1");
    expect(screen.getByRole("link", { name: "#42" })).toHaveAttribute("tabindex", "0");
  });
});
