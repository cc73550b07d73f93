import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { ChannelsPage } from "./channels";

const slack = {
  channel: "slack",
  title: "Slack",
  fields: [
    { name: "bot_token", label: "Bot token (xoxb-…)", secret: true, required: true, hint: "should start with xoxb-", suggested: null },
    { name: "default_channel", label: "Channel to post in", secret: false, required: false, hint: null, suggested: "#angie" },
  ],
  enabled: true,
  configured: false,
  missing: ["app_token or signing_secret"],
  config: { default_channel: "#home" },
  secrets_set: ["bot_token"],
  connection: "failed",
  connection_detail: "Slack said invalid_auth",
  webhook_path: "/api/channels/slack/hooks/3",
  updated_at: "2026-12-04T10:00:00Z",
};
const phone = {
  id: 7,
  channel: "imessage",
  external_id: "+15550001",
  display: "Sam's phone",
  preferred: false,
  created_at: "2026-12-01T10:00:00Z",
  last_seen_at: null,
};

function angie() {
  return fakeAngie({
    "GET /api/channels": () => list([slack]),
    "GET /api/channels/identities": () => list([phone]),
    "PUT /api/channels/{kind}": () => slack,
    "POST /api/channels/{kind}/check": () => ({ ok: false, detail: "Slack said: invalid_auth" }),
    "POST /api/channels/link": (body) =>
      (body as { code: string }).code === "123456"
        ? { status: 201, body: { ...phone, id: 8, channel: "slack", external_id: "U1", display: "sam" } }
        : { status: 404, body: { error: { message: "that pairing code is unknown or expired" } } },
    "POST /api/channels/identities/{identity_id}/prefer": () => ({ ...phone, preferred: true }),
    "DELETE /api/channels/identities/{identity_id}": () => ({ status: 204 }),
  });
}

describe("ChannelsPage", () => {
  it("shows why a channel is not connected and where the platform calls Angie", async () => {
    angie();
    page(<ChannelsPage />);
    expect(await screen.findByText("Slack said invalid_auth")).toBeVisible();
    expect(screen.getByText("failed")).toBeVisible();
    expect(screen.getByText("/api/channels/slack/hooks/3")).toBeVisible();
    expect(screen.getByLabelText("Channel to post in")).toHaveValue("#home");
    // A saved secret never comes back: the field is empty and says it is kept.
    expect(screen.getByLabelText("Bot token (xoxb-…) (needed)")).toHaveValue("");
    expect(screen.getByLabelText("Bot token (xoxb-…) (needed)")).toHaveAttribute("placeholder", "saved; type to replace");
  });

  it("saves the settings and only the secrets typed, then checks with the platform's words", async () => {
    const fake = angie();
    page(<ChannelsPage />);
    const token = await screen.findByLabelText("Bot token (xoxb-…) (needed)");
    await userEvent.type(token, "xoxb-new-token-1");
    await userEvent.clear(screen.getByLabelText("Channel to post in"));
    await userEvent.type(screen.getByLabelText("Channel to post in"), "#family{Enter}");
    expect(await screen.findByText("Saved.")).toBeVisible();
    expect(fake.to("PUT", "/api/channels/slack")).toEqual([
      { enabled: true, config: { default_channel: "#family" }, secrets: { bot_token: "xoxb-new-token-1" } },
    ]);
    expect(token).toHaveValue("");

    await userEvent.click(screen.getByRole("button", { name: "Check Slack" }));
    expect(await screen.findByText(/Slack said: invalid_auth/)).toBeVisible();
  });

  it("links with a pairing code, says why a wrong one fails, prefers and unlinks", async () => {
    const fake = angie();
    page(<ChannelsPage />);
    const code = await screen.findByLabelText("Pairing code");
    await userEvent.type(code, "999999{Enter}");
    expect(await screen.findByText("that pairing code is unknown or expired")).toBeVisible();
    await userEvent.clear(code);
    await userEvent.type(code, "123456{Enter}");
    expect(await screen.findByText("Linked slack sam.")).toBeVisible();

    const row = screen.getByText("Sam's phone").closest("li") as HTMLElement;
    await userEvent.click(within(row).getByRole("button", { name: "Crons reach me on imessage as Sam's phone" }));
    await userEvent.click(within(row).getByRole("button", { name: "Unlink imessage Sam's phone" }));
    expect(fake.sent.map((s) => `${s.method} ${s.path}`)).toEqual(
      expect.arrayContaining([
        "POST /api/channels/identities/7/prefer",
        "DELETE /api/channels/identities/7",
      ]),
    );
  });
});
