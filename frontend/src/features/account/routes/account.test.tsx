import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { ProfilePage } from "./profile";
import { TokensPage } from "./tokens";

const me = {
  id: 1,
  email: "sam@home.test",
  display_name: "Sam",
  preferred_name: null,
  timezone: "UTC",
  is_admin: true,
  is_active: true,
  created_at: "2026-12-01T10:00:00Z",
  last_login_at: null,
};
const doc = (name: string, body: string, version: number) => ({ name, body, version, created_at: version ? "2026-12-02T10:00:00Z" : null });

describe("ProfilePage", () => {
  it("saves the profile and a prompt document, and says why a bad timezone is refused", async () => {
    const fake = fakeAngie({
      "GET /api/me": () => me,
      "PATCH /api/me": (body) =>
        (body as { timezone: string }).timezone === "Mars/Base"
          ? { status: 422, body: { error: { message: "body: timezone: there is no timezone 'Mars/Base'" } } }
          : { ...me, ...(body as object) },
      "GET /api/prompts": () => list([doc("about_me", "I am Sam.", 2), doc("preferences", "", 0)]),
      "GET /api/prompts/{name}": (_, { name = "" }) => ({ ...doc(name, "", 0), rendered: `rendered ${name}` }),
      "PUT /api/prompts/{name}": (body, { name = "" }) => doc(name, (body as { body: string }).body, 1),
    });
    page(<ProfilePage />);
    const zone = await screen.findByLabelText("Timezone");
    await userEvent.clear(zone);
    await userEvent.type(zone, "Mars/Base{Enter}");
    expect(await screen.findByText("body: timezone: there is no timezone 'Mars/Base'")).toBeVisible();
    await userEvent.clear(zone);
    await userEvent.type(zone, "Europe/Paris");
    await userEvent.type(screen.getByLabelText("What Angie calls you"), "Sammy");
    await userEvent.click(screen.getByRole("button", { name: "Save profile" }));
    expect(await screen.findByText("Profile saved.")).toBeVisible();
    expect(fake.to("PATCH", "/api/me").at(-1)).toEqual({ display_name: "Sam", preferred_name: "Sammy", timezone: "Europe/Paris" });

    expect(await screen.findByLabelText(/^about_me/)).toHaveValue("I am Sam.");
    const docs = screen.getByRole("list", { name: "Prompt documents" });
    await userEvent.click(within(docs).getByRole("button", { name: /preferences/ }));
    await userEvent.type(screen.getByLabelText(/^preferences/), "Tea, not coffee.");
    await userEvent.click(screen.getByRole("button", { name: "Save the preferences prompt" }));
    expect(await screen.findByText("Saved the preferences prompt.")).toBeVisible();
    expect(fake.to("PUT", "/api/prompts/preferences")).toEqual([{ body: "Tea, not coffee." }]);
  });
});

describe("TokensPage", () => {
  it("creates a token, shows it once, and revokes one", async () => {
    const fake = fakeAngie({
      "GET /api/me/tokens": () =>
        list([{ id: 3, name: "ha", prefix: "ang_ab12", created_at: "2026-12-01T10:00:00Z", last_used_at: null, expires_at: null, revoked_at: null }]),
      "POST /api/me/tokens": (body) => ({
        status: 201,
        body: { id: 4, prefix: "ang_cd34", created_at: "2026-12-04T10:00:00Z", last_used_at: null, expires_at: null, revoked_at: null, ...(body as object), token: "ang_cd34_secret" },
      }),
      "DELETE /api/me/tokens/{token_id}": () => ({ status: 204 }),
    });
    page(<TokensPage />);
    await userEvent.type(await screen.findByLabelText("Token name"), "script");
    await userEvent.type(screen.getByLabelText("Expires after (days; blank: never)"), "30{Enter}");
    expect(await screen.findByTestId("new-token")).toHaveTextContent("ang_cd34_secret");
    expect(fake.to("POST", "/api/me/tokens")).toEqual([{ name: "script", expires_in_days: 30 }]);

    await userEvent.click(screen.getByRole("button", { name: "Revoke ha" }));
    await userEvent.click(await screen.findByRole("button", { name: "Revoke token" }));
    await vi.waitFor(() => expect(fake.to("DELETE", "/api/me/tokens/3")).toHaveLength(1));
  });
});
