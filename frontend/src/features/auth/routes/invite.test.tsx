import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, page } from "@/test/fake-angie";

import { InvitePage } from "./invite";

const invited = (
  <Routes>
    <Route path="/invite/:token" element={<InvitePage />} />
  </Routes>
);

async function fill() {
  await userEvent.type(await screen.findByLabelText("Your name"), "Kim");
  await userEvent.type(screen.getByLabelText("Email"), "kim@home.test");
  await userEvent.type(screen.getByLabelText("Password"), "correct horse");
  await userEvent.click(screen.getByRole("button", { name: "Create account" }));
}

describe("InvitePage", () => {
  it("creates the account with the code from the link", async () => {
    const fake = fakeAngie({
      "POST /api/auth/register": () => ({ status: 201, body: { id: 3 } }),
    });
    page(invited, "/invite/c0de%2Fx");
    await fill();
    await vi.waitFor(() =>
      expect(fake.to("POST", "/api/auth/register")).toEqual([
        { email: "kim@home.test", password: "correct horse", display_name: "Kim", invite_code: "c0de/x" },
      ]),
    );
  });

  it("says why a used invitation is refused", async () => {
    fakeAngie({
      "POST /api/auth/register": () => ({ status: 403, body: { error: { message: "this invite is not valid (used, expired or unknown)" } } }),
    });
    page(invited, "/invite/used");
    await fill();
    expect(await screen.findByText("this invite is not valid (used, expired or unknown)")).toBeVisible();
  });
});
