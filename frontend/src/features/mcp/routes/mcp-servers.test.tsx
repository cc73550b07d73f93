import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { McpServersPage } from "./mcp-servers";

const server = (name: string, changes: object = {}) => ({
  name,
  description: `${name} things`,
  transport: "stdio",
  builtin: true,
  enabled: true,
  installed: true,
  active: true,
  scope: "household",
  health: "healthy",
  configured: true,
  missing_settings: [],
  last_error: null,
  restarts: 0,
  approval_mode: "auto",
  tool_policies: {},
  content_trust: "trusted",
  content_trust_set_by: "server",
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
  ...changes,
});
const hue = server("hue");
const gmail = server("gmail", {
  scope: "personal",
  content_trust: "untrusted",
  health: "unhealthy",
  configured: false,
  missing_settings: ["ANGIE_GMAIL_CLIENT_ID"],
  last_error: "not configured: ANGIE_GMAIL_CLIENT_ID missing",
  active: false,
});
const tool = (name: string, read_only: boolean) => ({
  name,
  prefixed_name: `hue_${name}`,
  title: null,
  description: `${name} tool`,
  read_only,
  destructive: false,
  annotations: {},
  input_schema: {},
  decision: read_only ? "allow" : "ask",
  untrusted_decision: "ask",
});

function angie(admin: boolean) {
  return fakeAngie({
    "GET /api/me": () => ({ id: 1, email: "sam@home.test", display_name: "Sam", is_admin: admin }),
    "GET /api/mcp/servers": () => list([hue, gmail]),
    "GET /api/mcp/servers/{name}/tools": () => [tool("list_lights", true), tool("set_light", false)],
    "PATCH /api/mcp/servers/{name}": (body) => ({ ...hue, ...(body as object) }),
    "GET /api/mcp/accounts": () => ({
      accounts: [
        { id: 9, server: "gmail", label: "sam@example.org", status: "connected", owner_id: 1, mine: true, shared_with: [], running: false, sign_in_expires_at: inADay, created_at: "2026-12-01T10:00:00Z" },
      ],
    }),
    "DELETE /api/mcp/accounts/{account_id}": () => ({ status: 204 }),
  });
}

const inADay = new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString();

describe("McpServersPage", () => {
  it("lets an admin set a server's trust, its calls and one tool's rule", async () => {
    const fake = angie(true);
    page(<McpServersPage />);
    const card = await screen.findByRole("listitem", { name: "hue" });
    await vi.waitFor(() => expect(within(card).getByLabelText(/What it returns/)).toBeEnabled());
    await userEvent.selectOptions(within(card).getByLabelText(/What it returns/), "untrusted");
    await userEvent.selectOptions(within(card).getByLabelText("Calls"), "ask");
    await userEvent.click(within(card).getByRole("button", { name: "Show tools" }));
    const rule = await within(card).findByLabelText("Rule for set_light");
    expect(within(card).getByText("changes")).toBeVisible();
    await userEvent.selectOptions(rule, "never");
    await vi.waitFor(() =>
      expect(fake.to("PATCH", "/api/mcp/servers/hue")).toEqual([
        { content_trust: "untrusted" },
        { approval_mode: "ask" },
        { tool_policies: { set_light: "never" } },
      ]),
    );
  });

  it("shows a member what is set without letting them change it, and their own accounts", async () => {
    const fake = angie(false);
    page(<McpServersPage />);
    const card = await screen.findByRole("listitem", { name: "gmail" });
    expect(within(card).getByText("not configured: ANGIE_GMAIL_CLIENT_ID missing")).toBeVisible();
    expect(within(card).getByLabelText(/What it returns/)).toBeDisabled();
    expect(within(card).queryByRole("button", { name: /Switch/ })).toBeNull();
    expect(within(card).getByText("angie mcp connect gmail")).toBeVisible();
    const accounts = within(card).getByRole("list", { name: "Your gmail accounts" });
    expect(await within(accounts).findByText("sam@example.org")).toBeVisible();
    expect(within(accounts).getByText(/Reconnect soon: the sign-in expires/)).toBeVisible();
    await userEvent.click(within(accounts).getByRole("button", { name: "Forget sam@example.org" }));
    await userEvent.click(await screen.findByRole("button", { name: "Forget account" }));
    await vi.waitFor(() => expect(fake.to("DELETE", "/api/mcp/accounts/9")).toHaveLength(1));
    expect(fake.to("PATCH", "/api/mcp/servers/gmail")).toEqual([]);
  });
});
