import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, list, page } from "@/test/fake-angie";

import { TeamsPage } from "./teams";

const agent = (id: number, name: string) => ({ id, name });
const home = {
  id: 3,
  name: "home",
  description: "Lights and music",
  prompt: "",
  tool_filter: [],
  enabled: true,
  builtin: false,
  members: [
    { agent_id: 1, name: "hue" },
    { agent_id: 2, name: "spotify" },
  ],
  available: true,
  unavailable_reason: "",
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};

function angie() {
  return fakeAngie({
    "GET /api/teams": () => list([home]),
    "GET /api/agents": () => list([agent(1, "hue"), agent(2, "spotify"), agent(4, "github")]),
    "PATCH /api/teams/{team_id}": (body) => ({ ...home, ...(body as object) }),
    "POST /api/teams": (body) =>
      (body as { name: string }).name === "home"
        ? { status: 409, body: { error: { message: "you already have a team named home" } } }
        : { status: 201, body: { ...home, id: 5 } },
    "DELETE /api/teams/{team_id}": () => ({ status: 204 }),
  });
}

describe("TeamsPage", () => {
  it("reorders, adds and removes members from the keyboard and saves the order", async () => {
    const fake = angie();
    page(<TeamsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit home" }));
    const members = screen.getByRole("list", { name: "Members" });
    // Keyboard only: focus "Move spotify up" and press Enter.
    within(members).getByRole("button", { name: "Move spotify up" }).focus();
    await userEvent.keyboard("{Enter}");
    expect(within(members).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      expect.stringContaining("spotify"),
      expect.stringContaining("hue"),
    ]);
    await userEvent.selectOptions(screen.getByLabelText("Agent to add"), "github");
    await userEvent.click(screen.getByRole("button", { name: "Add to team" }));
    await userEvent.click(within(members).getByRole("button", { name: "Remove hue" }));
    await userEvent.click(screen.getByRole("button", { name: "Save team" }));
    await screen.findByRole("button", { name: "Edit home" });
    expect(fake.to("PATCH", "/api/teams/3")).toEqual([
      { name: "home", description: "Lights and music", prompt: "", enabled: true, members: [2, 4] },
    ]);
  });

  it("says why a new team was refused, and deletes a team after asking", async () => {
    const fake = angie();
    page(<TeamsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "New team" }));
    await userEvent.type(screen.getByLabelText("Team name"), "home");
    await userEvent.selectOptions(screen.getByLabelText("Agent to add"), "hue");
    await userEvent.click(screen.getByRole("button", { name: "Add to team" }));
    await userEvent.click(screen.getByRole("button", { name: "Create team" }));
    expect(await screen.findByText("you already have a team named home")).toBeVisible();

    // Keeping it sends nothing; only the confirming button deletes.
    await userEvent.click(screen.getByRole("button", { name: "Delete home" }));
    await userEvent.click(await screen.findByRole("button", { name: "Keep it" }));
    expect(fake.to("DELETE", "/api/teams/3")).toHaveLength(0);
    await userEvent.click(screen.getByRole("button", { name: "Delete home" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete team" }));
    await vi.waitFor(() => expect(fake.to("DELETE", "/api/teams/3")).toHaveLength(1));
  });
});
