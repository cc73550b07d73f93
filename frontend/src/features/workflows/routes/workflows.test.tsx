import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { WorkflowEditPage, WorkflowListPage } from "./workflows";

const step = (id: number, name: string, agent_id: number) => ({
  id,
  position: id,
  name,
  agent_id,
  agent: "hue",
  team_id: null,
  team: null,
  instruction: `do ${name}`,
  on_failure: "stop",
  max_retries: 0,
});
const morning = {
  id: 4,
  name: "morning",
  description: "",
  enabled: true,
  steps: [step(1, "lights", 1), step(2, "news", 2)],
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};
const task = (id: number, status: string) => ({ id, status, kind: "workflow_step", agent: "hue", input: {}, created_at: "2026-12-04T10:00:00Z" });

function angie() {
  let looks = 0;
  return fakeAngie({
    "GET /api/workflows": () => list([morning]),
    "GET /api/workflows/{workflow_id}": () => morning,
    "GET /api/agents": () => list([{ id: 1, name: "hue" }, { id: 2, name: "news" }]),
    "GET /api/teams": () => list([{ id: 7, name: "home" }]),
    "POST /api/workflows": (body) => ({ status: 201, body: { ...morning, ...(body as object), id: 4 } }),
    "PATCH /api/workflows/{workflow_id}": (body) => ({ ...morning, ...(body as object) }),
    "POST /api/workflows/{workflow_id}/run": () => ({ status: 202, body: { event_id: 1, task_id: 50 } }),
    // The run: first the first step works, then both are done.
    "GET /api/tasks/{task_id}": () => {
      looks += 1;
      return looks === 1
        ? { id: 50, status: "running", error: null, children: [task(51, "running")] }
        : { id: 50, status: "succeeded", error: null, children: [task(51, "succeeded"), task(52, "succeeded")] };
    },
  });
}

function editor(path: string) {
  return page(
    <Routes>
      <Route path="/workflows" element={<WorkflowListPage />} />
      <Route path="/workflows/:workflowId" element={<WorkflowEditPage />} />
    </Routes>,
    path,
  );
}

describe("Workflows", () => {
  it("builds steps from the keyboard: add, pick a team, reorder, remove, the failure policy", async () => {
    const fake = angie();
    editor("/workflows/new");
    await screen.findByRole("option", { name: "team home" });
    await userEvent.type(screen.getByLabelText("Name"), "evening");
    const steps = screen.getByRole("list", { name: "Steps" });
    await userEvent.type(within(steps).getByLabelText("Step name"), "dim");
    await userEvent.selectOptions(within(steps).getByLabelText("Run by"), "hue");
    await userEvent.type(within(steps).getByLabelText("Instruction"), "dim the lights");

    await userEvent.click(screen.getByRole("button", { name: "Add step" }));
    const second = within(steps).getByRole("listitem", { name: "Step 2: step 2" });
    await userEvent.type(within(second).getByLabelText("Step name"), "tell");
    await userEvent.selectOptions(within(second).getByLabelText("Run by"), "team home");
    await userEvent.type(within(second).getByLabelText("Instruction"), "say {{{{ previous }}");
    await userEvent.selectOptions(within(second).getByLabelText("When it fails"), "try again");
    await userEvent.clear(within(second).getByLabelText("Tries again up to"));
    await userEvent.type(within(second).getByLabelText("Tries again up to"), "2");
    within(second).getByRole("button", { name: "Move tell up" }).focus();
    await userEvent.keyboard("{Enter}");
    await userEvent.click(screen.getByRole("button", { name: "Add step" }));
    await userEvent.click(within(steps).getByRole("button", { name: "Remove step 3" }));

    await userEvent.click(screen.getByRole("button", { name: "Create workflow" }));
    await screen.findByRole("heading", { name: "Workflow evening" });
    expect(fake.to("POST", "/api/workflows")).toEqual([
      {
        name: "evening",
        description: "",
        enabled: true,
        steps: [
          { name: "tell", agent_id: null, team_id: 7, instruction: "say {{ previous }}", on_failure: "retry", max_retries: 2 },
          { name: "dim", agent_id: 1, team_id: null, instruction: "dim the lights", on_failure: "stop", max_retries: 0 },
        ],
      },
    ]);
  });

  it("runs a workflow now and shows its steps as they finish", async () => {
    angie();
    const { client } = editor("/workflows");
    await userEvent.click(await screen.findByRole("link", { name: /morning/ }));
    await userEvent.click(await screen.findByRole("button", { name: "Run now" }));
    const run = await screen.findByRole("list", { name: "Steps of this run" });
    expect(await within(run).findByRole("link", { name: "lights: running" })).toBeVisible();
    // The steps finish: live updates say the run's tasks changed.
    await client.invalidateQueries({ queryKey: ["task"] });
    expect(await within(run).findByRole("link", { name: "news: succeeded" })).toBeVisible();
    expect(within(run).getByRole("link", { name: "lights: succeeded" })).toHaveAttribute("href", "/tasks/51");
  });
});
