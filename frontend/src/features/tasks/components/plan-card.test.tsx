import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";

import { PlanCard } from "./plan-card";

const plan = {
  id: 3,
  task_id: 9,
  goal: "Get the living room ready",
  status: "failed" as const,
  created_at: "2026-12-04T18:00:00Z",
  updated_at: "2026-12-04T18:01:00Z",
  steps: [
    { name: "lamp", ask: "hue", request: "switch on the floor lamp", after: [], status: "succeeded", task_id: 11 },
    { name: "music", ask: "spotify", request: "play jazz", after: ["lamp"], status: "failed", task_id: 12 },
    { name: "tell", ask: "hue", request: "say it is ready", after: ["music"], status: "waiting", task_id: null },
  ],
};

describe("PlanCard", () => {
  it("lists each step in order with who does it, what it waits for and its task", () => {
    render(
      <MemoryRouter>
        <PlanCard plan={plan} />
      </MemoryRouter>,
    );
    expect(screen.getByText(/Plan: Get the living room ready/)).toHaveTextContent("failed");
    const steps = within(screen.getByRole("list", { name: /Steps of the plan/ })).getAllByRole("listitem");
    expect(steps.map((s) => s.textContent)).toEqual([
      expect.stringContaining("1. lamp by hue succeeded task #11"),
      expect.stringContaining("2. music by spotify · after lamp failed task #12"),
      expect.stringContaining("3. tell by hue · after music waiting"),
    ]);
    expect(screen.getByRole("link", { name: "task #12" })).toHaveAttribute("href", "/tasks/12");
    expect(screen.queryByRole("link", { name: /task #null/ })).toBeNull();
  });
});
