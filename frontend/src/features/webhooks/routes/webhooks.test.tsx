import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { WebhooksPage } from "./webhooks";

const hook = {
  id: 7,
  hook_id: "abc123",
  url: "/api/hooks/abc123",
  name: "doorbell",
  agent_id: null,
  team_id: null,
  workflow_id: 4,
  instruction: "Tell me who rang.",
  enabled: true,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
  last_delivery_at: null,
};
const agents = list([{ id: 2, name: "butler" }]);
const teams = list([{ id: 3, name: "outside" }]);
const workflows = list([{ id: 4, name: "dusk" }]);
const fleet = {
  "GET /api/agents": () => agents,
  "GET /api/teams": () => teams,
  "GET /api/workflows": () => workflows,
};

describe("WebhooksPage", () => {
  it("creates a webhook and shows its secret once, rotates, edits and deletes one", async () => {
    const fake = fakeAngie({
      "GET /api/webhooks": () => list([hook]),
      ...fleet,
      "POST /api/webhooks": (body) => ({
        status: 201,
        body: { ...hook, id: 8, hook_id: "new9", url: "/api/hooks/new9", ...(body as object), secret: "s3cret-one" },
      }),
      "POST /api/webhooks/{webhook_id}/rotate": () => ({ ...hook, secret: "s3cret-two" }),
      "PATCH /api/webhooks/{webhook_id}": (body) => ({ ...hook, ...(body as object) }),
      "DELETE /api/webhooks/{webhook_id}": () => ({ status: 204 }),
    });
    page(<WebhooksPage />);
    const hooks = await screen.findByRole("list", { name: "Webhooks" });
    expect(await within(hooks).findByTestId("hook-url")).toHaveTextContent(`${window.location.origin}/api/hooks/abc123`);
    expect(within(hooks).getByTestId("signing-curl")).toHaveTextContent("X-Angie-Signature: sha256=$SIG");

    await userEvent.type(screen.getByLabelText("Webhook name"), "garage");
    expect(await within(hooks).findByText("Handled by workflow dusk: Tell me who rang.")).toBeVisible();
    await screen.findAllByRole("option", { name: "team outside" });
    await userEvent.selectOptions(screen.getByLabelText("Who handles it"), "team outside");
    await userEvent.type(screen.getByLabelText("What to do with each delivery"), "Say if the door opened.");
    await userEvent.click(screen.getByRole("button", { name: "Create webhook" }));
    expect(await screen.findByTestId("new-secret")).toHaveTextContent("s3cret-one");
    expect(fake.to("POST", "/api/webhooks")).toEqual([
      { name: "garage", agent_id: null, team_id: 3, workflow_id: null, instruction: "Say if the door opened.", enabled: true },
    ]);
    expect(screen.getByLabelText("Webhook name")).toHaveValue("");

    await userEvent.click(within(hooks).getByRole("button", { name: "Rotate secret of doorbell" }));
    await userEvent.click(await screen.findByRole("button", { name: "Rotate secret" }));
    expect(await screen.findByText("s3cret-two")).toBeVisible();
    expect(screen.queryByText("s3cret-one")).toBeNull();
    expect(fake.to("POST", "/api/webhooks/7/rotate")).toHaveLength(1);

    await userEvent.click(within(hooks).getByRole("button", { name: "Edit doorbell" }));
    const edit = screen.getByRole("form", { name: "Edit doorbell" });
    await userEvent.click(within(edit).getByLabelText("Enabled"));
    await userEvent.click(within(edit).getByRole("button", { name: "Save webhook" }));
    // The target was not touched, so it is not sent (naming one replaces the whole target).
    await vi.waitFor(() =>
      expect(fake.to("PATCH", "/api/webhooks/7")).toEqual([{ name: "doorbell", instruction: "Tell me who rang.", enabled: false }]),
    );
    await userEvent.click(within(hooks).getByRole("button", { name: "Edit doorbell" }));
    const again = screen.getByRole("form", { name: "Edit doorbell" });
    expect(within(again).getByLabelText("Who handles it")).toHaveValue("workflow:4");
    await userEvent.selectOptions(within(again).getByLabelText("Who handles it"), "butler");
    await userEvent.click(within(again).getByRole("button", { name: "Save webhook" }));
    await vi.waitFor(() =>
      expect(fake.to("PATCH", "/api/webhooks/7")[1]).toEqual({
        name: "doorbell",
        instruction: "Tell me who rang.",
        enabled: true,
        agent_id: 2,
        team_id: null,
        workflow_id: null,
      }),
    );

    await userEvent.click(within(hooks).getByRole("button", { name: "Delete doorbell" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete webhook" }));
    await vi.waitFor(() => expect(fake.to("DELETE", "/api/webhooks/7")).toHaveLength(1));
  });

  it("shows a webhook's recent deliveries with their events and tasks", async () => {
    const fake = fakeAngie({
      "GET /api/webhooks": () => list([hook]),
      ...fleet,
      "GET /api/webhooks/{webhook_id}/deliveries": () => ({
        limit: 20,
        items: [
          {
            event_id: 31,
            received_at: "2026-12-01T10:05:00Z",
            delivery_id: "d-2",
            status: "routed",
            error: null,
            task_id: 90,
            task_status: "failed",
          },
          {
            event_id: 30,
            received_at: "2026-12-01T10:00:00Z",
            delivery_id: null,
            status: "failed",
            error: "no rule takes webhooks",
            task_id: null,
            task_status: null,
          },
        ],
      }),
    });
    page(<WebhooksPage />);
    const show = await screen.findByRole("button", { name: "Deliveries of doorbell" });
    expect(show).toHaveAttribute("aria-expanded", "false");
    expect(fake.to("GET", "/api/webhooks/7/deliveries")).toHaveLength(0);

    await userEvent.click(show);

    const table = await screen.findByRole("table", { name: "Recent deliveries of doorbell" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.textContent)).toEqual([
      expect.stringContaining("d-2routedTask 90failed"),
      expect.stringContaining("none sentfailedno rule takes webhooksnone"),
    ]);
    expect(within(rows[0]!).getByRole("link", { name: "Task 90" })).toHaveAttribute("href", "/tasks/90");
    expect(show).toHaveAttribute("aria-expanded", "true");
    expect(fake.sent.find((s) => s.path === "/api/webhooks/7/deliveries")?.query.get("limit")).toBe("20");
  });

  it("says why a webhook is refused and shows no secret", async () => {
    fakeAngie({
      "GET /api/webhooks": () => list([hook]),
      ...fleet,
      "POST /api/webhooks": () => ({ status: 409, body: { error: { message: "you already have a webhook named 'doorbell'" } } }),
      "POST /api/webhooks/{webhook_id}/rotate": () => ({ status: 404, body: { error: { message: "no webhook 7" } } }),
    });
    page(<WebhooksPage />);
    await userEvent.type(await screen.findByLabelText("Webhook name"), "doorbell{Enter}");
    expect(await screen.findByText("you already have a webhook named 'doorbell'")).toBeVisible();
    expect(screen.queryByTestId("new-secret")).toBeNull();

    await userEvent.click(await screen.findByRole("button", { name: "Rotate secret of doorbell" }));
    await userEvent.click(await screen.findByRole("button", { name: "Rotate secret" }));
    expect(await screen.findByText("no webhook 7")).toBeVisible();
    expect(screen.queryByTestId("new-secret")).toBeNull();
  });
});
