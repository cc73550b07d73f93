import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { EventsPage } from "./events";

const cron = {
  id: 2,
  name: "morning news",
  cron: "0 7 * * *",
  timezone: "Europe/Paris",
  instruction: "Read me the news",
  agent_id: null,
  team_id: null,
  workflow_id: 4,
  enabled: true,
  misfire_policy: "run_once",
  misfire_grace_seconds: 3600,
  next_run_at: "2026-12-05T06:00:00Z",
  last_run_at: null,
  created_at: "2026-12-01T10:00:00Z",
};
const event = {
  id: 31,
  type: "cron",
  source: "schedule:2",
  status: "routed",
  channel: null,
  thread: null,
  payload: { name: "morning news" },
  error: null,
  task_id: 77,
  created_at: "2026-12-04T06:00:00Z",
  processed_at: "2026-12-04T06:00:01Z",
};

function angie() {
  return fakeAngie({
    "GET /api/schedules": () => list([cron]),
    "GET /api/events": () => list([event]),
    "GET /api/events/upcoming": () => ({
      hours: 48,
      truncated: false,
      items: [{ schedule_id: 2, name: "morning news", at: "2026-12-05T07:00:00+01:00", cron: "0 7 * * *" }],
    }),
    "GET /api/agents": () => list([]),
    "GET /api/teams": () => list([]),
    "GET /api/workflows": () => list([{ id: 4, name: "morning" }]),
    "POST /api/schedules": (body) =>
      (body as { cron: string }).cron === "61 * * * *"
        ? { status: 422, body: { error: { message: "body: cron: minute 61 is out of range (0-59)" } } }
        : { status: 201, body: { ...cron, ...(body as object), id: 3 } },
    "POST /api/schedules/preview": (body) => {
      const { cron: expression, timezone } = body as { cron: string; timezone: string | null };
      if (expression.startsWith("61"))
        return { status: 422, body: { error: { message: "body: cron: minute 61 is out of range (0-59)" } } };
      return {
        description: expression === "0 7 * * 1-5" ? "At 07:00, Monday through Friday" : `At ${expression}`,
        timezone: timezone ?? "Europe/Paris",
        next_runs: ["2026-12-07T06:00:00Z", "2026-12-08T06:00:00Z", "2026-12-09T06:00:00Z", "2026-12-10T06:00:00Z", "2026-12-11T06:00:00Z"],
      };
    },
    "PATCH /api/schedules/{schedule_id}": (body) => ({ ...cron, ...(body as object) }),
    "POST /api/schedules/{schedule_id}/pause": () => ({ ...cron, enabled: false }),
    "DELETE /api/schedules/{schedule_id}": () => ({ status: 204 }),
  });
}

describe("EventsPage", () => {
  it("shows past events with their tasks and the crons with their next runs", async () => {
    angie();
    page(<EventsPage />);
    const events = await screen.findByRole("list", { name: "Events" });
    expect(await within(events).findByRole("link", { name: "task #77" })).toHaveAttribute("href", "/tasks/77");
    const crons = screen.getByRole("list", { name: "Crons" });
    expect(await within(crons).findByText("morning news")).toBeVisible();
    expect(within(crons).getByText(/^Next: /)).toBeVisible();
  });

  it("creates a cron for a workflow, says why a bad crontab is refused, pauses and deletes", async () => {
    const fake = angie();
    page(<EventsPage />);
    await screen.findByRole("option", { name: "workflow morning" });
    await userEvent.type(screen.getByLabelText("Name"), "tidy");
    await userEvent.type(screen.getByLabelText("When (crontab)"), "61 * * * *");
    await userEvent.selectOptions(screen.getByLabelText("Who does it"), "workflow morning");
    await userEvent.click(screen.getByRole("button", { name: "Create cron" }));
    // The preview says it while it is typed; the refusal says it again.
    expect(await screen.findByRole("alert")).toHaveTextContent("body: cron: minute 61 is out of range (0-59)");
    await userEvent.clear(screen.getByLabelText("When (crontab)"));
    await userEvent.type(screen.getByLabelText("When (crontab)"), "0 9 * * 6{Enter}");
    expect(await screen.findByText(/Made tidy; it first runs/)).toBeVisible();
    expect(fake.to("POST", "/api/schedules").at(-1)).toEqual({
      name: "tidy",
      cron: "0 9 * * 6",
      timezone: null,
      instruction: "",
      agent_id: null,
      team_id: null,
      workflow_id: 4,
      enabled: true,
      misfire_policy: "run_once",
      misfire_grace_seconds: 3600,
    });

    await userEvent.click(screen.getByRole("button", { name: "Pause morning news" }));
    await userEvent.click(screen.getByRole("button", { name: "Delete morning news" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete cron" }));
    await vi.waitFor(() => {
      expect(fake.to("POST", "/api/schedules/2/pause")).toHaveLength(1);
      expect(fake.to("DELETE", "/api/schedules/2")).toHaveLength(1);
    });
  });

  it("previews a crontab in words with its next runs as it is typed", async () => {
    const fake = angie();
    page(<EventsPage />);
    const form = await screen.findByRole("form", { name: "New cron" });
    await userEvent.type(within(form).getByLabelText("When (crontab)"), "0 7 * * 1-5");
    const preview = await within(form).findByText("At 07:00, Monday through Friday, Europe/Paris");
    expect(preview).toBeVisible();
    expect(within(form).getByText(/^Next: /).textContent?.split(" · ")).toHaveLength(5);
    // Asked once typing paused, not once a key.
    await vi.waitFor(() => expect(fake.to("POST", "/api/schedules/preview").length).toBeGreaterThan(0));
    expect(fake.to("POST", "/api/schedules/preview").length).toBeLessThan(4);
    expect(fake.to("POST", "/api/schedules/preview").at(-1)).toEqual({ cron: "0 7 * * 1-5", timezone: null });
  });

  it("edits a cron in place, sending what changed", async () => {
    const fake = angie();
    page(<EventsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit morning news" }));
    const form = await screen.findByRole("form", { name: "Edit morning news" });
    const when = within(form).getByLabelText("When (crontab)");
    expect(when).toHaveValue("0 7 * * *");
    await userEvent.clear(when);
    await userEvent.type(when, "0 7 * * 1-5");
    await userEvent.click(within(form).getByRole("button", { name: "Save cron" }));
    await vi.waitFor(() => expect(fake.to("PATCH", "/api/schedules/2")).toHaveLength(1));
    // The target did not change: it is not sent, so the workflow stays.
    expect(fake.to("PATCH", "/api/schedules/2")[0]).toEqual({
      name: "morning news",
      cron: "0 7 * * 1-5",
      timezone: "Europe/Paris",
      instruction: "Read me the news",
    });
    await vi.waitFor(() => expect(screen.queryByRole("form", { name: "Edit morning news" })).toBeNull());
  });
});
