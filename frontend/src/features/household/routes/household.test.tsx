import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { HouseholdPage } from "./household";

const person = (id: number, name: string, is_admin: boolean) => ({
  id,
  email: `${name.toLowerCase()}@home.test`,
  display_name: name,
  preferred_name: null,
  timezone: "UTC",
  is_admin,
  is_active: true,
  created_at: "2026-12-01T10:00:00Z",
  last_login_at: null,
});
const sam = person(1, "Sam", true);
const alex = person(2, "Alex", false);
const invite = { id: 5, email: "kim@home.test", is_admin: false, created_at: "2026-12-01T10:00:00Z", expires_at: "2026-12-08T10:00:00Z", used_at: null };

describe("HouseholdPage", () => {
  it("invites someone with a link shown once, makes a member admin, deactivates one, withdraws an invitation", async () => {
    const fake = fakeAngie({
      "GET /api/me": () => sam,
      "GET /api/users": () => list([sam, alex]),
      "PATCH /api/users/{user_id}": (body) => ({ ...alex, ...(body as object) }),
      "GET /api/users/invites": () => list([invite]),
      "POST /api/users/invites": (body) => ({ status: 201, body: { ...invite, id: 6, ...(body as object), code: "c0de/x" } }),
      "DELETE /api/users/invites/{invite_id}": () => ({ status: 204 }),
    });
    page(<HouseholdPage />);
    await userEvent.type(await screen.findByLabelText("Their email (optional)"), "jo@home.test");
    await userEvent.click(screen.getByRole("button", { name: "Create invitation" }));
    expect(await screen.findByTestId("invite-link")).toHaveTextContent(`${window.location.origin}/invite/c0de%2Fx`);
    expect(fake.to("POST", "/api/users/invites")).toEqual([{ email: "jo@home.test", is_admin: false }]);

    const people = screen.getByRole("list", { name: "People" });
    expect(within(people).queryByRole("button", { name: /Sam/ })).toBeNull();
    await userEvent.click(within(people).getByRole("button", { name: "Make admin: Alex" }));
    await userEvent.click(within(people).getByRole("button", { name: "Deactivate Alex" }));
    await userEvent.click(await screen.findByRole("button", { name: "Deactivate" }));
    await vi.waitFor(() => expect(fake.to("PATCH", "/api/users/2")).toEqual([{ is_admin: true }, { is_active: false }]));

    const invites = screen.getByRole("list", { name: "Invitations" });
    await userEvent.click(within(invites).getByRole("button", { name: "Withdraw the invitation for kim@home.test" }));
    await userEvent.click(await screen.findByRole("button", { name: "Withdraw invitation" }));
    await vi.waitFor(() => expect(fake.to("DELETE", "/api/users/invites/5")).toHaveLength(1));
  });

  it("shows why a change is refused", async () => {
    fakeAngie({
      "GET /api/me": () => sam,
      "GET /api/users": () => list([sam, alex]),
      "PATCH /api/users/{user_id}": () => ({ status: 409, body: { error: { message: "Alex cannot be changed now" } } }),
      "GET /api/users/invites": () => list([]),
      "POST /api/users/invites": () => ({ status: 422, body: { error: { message: "body: email: not an email address" } } }),
    });
    page(<HouseholdPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Make admin: Alex" }));
    expect(await screen.findByText("Alex cannot be changed now")).toBeVisible();
    await userEvent.click(screen.getByRole("button", { name: "Create invitation" }));
    expect(await screen.findByText("body: email: not an email address")).toBeVisible();
    expect(screen.queryByTestId("invite-link")).toBeNull();
  });

  it("tells a member only admins manage the household, and asks the API nothing more", async () => {
    const fake = fakeAngie({ "GET /api/me": () => alex });
    page(<HouseholdPage />);
    expect(await screen.findByText(/Only the household's admins/)).toBeVisible();
    expect(fake.sent.map((s) => s.path)).toEqual(["/api/me"]);
  });
});
