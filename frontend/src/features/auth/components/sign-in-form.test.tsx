import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { SignInForm } from "./sign-in-form";

describe("SignInForm", () => {
  it("signs in with what was typed, from the keyboard alone", async () => {
    const onSignIn = vi.fn(async () => {});
    render(<SignInForm onSignIn={onSignIn} />);
    await userEvent.tab();
    await userEvent.keyboard("sam@home.test");
    await userEvent.tab();
    await userEvent.keyboard("correct horse{Enter}");
    expect(onSignIn).toHaveBeenCalledWith("sam@home.test", "correct horse");
  });

  it("says why a sign-in failed and lets the person try again", async () => {
    const onSignIn = vi.fn(async () => {
      throw new Error("the email or the password is wrong");
    });
    render(<SignInForm onSignIn={onSignIn} />);
    await userEvent.type(screen.getByLabelText("Email"), "sam@home.test");
    await userEvent.type(screen.getByLabelText("Password"), "nope-nope");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the email or the password is wrong");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeEnabled();
  });
});
