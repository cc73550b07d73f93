import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeAngie, page } from "@/test/fake-angie";

import type { Server } from "../api/mcp";
import { ConnectAccount } from "./connect-account";

const server = (name: string, typed: string[] = []) =>
  ({ name, scope: "personal", typed_credentials: typed }) as unknown as Server;
const consent = "https://accounts.google.test/o/oauth2/auth?redirect_uri=http%3A%2F%2F127.0.0.1%3A5001%2F";
const waiting = {
  id: "abcdefgh123",
  server: "gcal",
  label: "me@example.com",
  account_id: 4,
  state: "waiting",
  instructions: [`Open this URL in a browser and allow Angie: ${consent}`],
  links: [consent],
  can_paste: true,
  error: null,
};

describe("ConnectAccount", () => {
  it("shows the provider's page, takes the address a phone ended on, and says when it is connected", async () => {
    const fake = fakeAngie({
      "POST /api/mcp/accounts/sign-ins": () => ({ status: 201, body: waiting }),
      "GET /api/mcp/accounts/sign-ins/{sign_in_id}": () => waiting,
      "POST /api/mcp/accounts/sign-ins/{sign_in_id}/paste": () => ({ ...waiting, state: "connected", can_paste: false }),
    });
    page(<ConnectAccount server={server("gcal")} />);
    await userEvent.type(screen.getByLabelText("What you call it"), "me@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Connect gcal" }));
    const link = await screen.findByRole("link", { name: "Open the gcal sign-in page" });
    expect(link).toHaveAttribute("href", consent);
    expect(link).toHaveAttribute("rel", "noopener noreferrer");
    expect(fake.to("POST", "/api/mcp/accounts/sign-ins")[0]).toEqual({
      server: "gcal",
      label: "me@example.com",
      credentials: {},
    });
    await userEvent.type(screen.getByLabelText(/paste its address here/), "http://127.0.0.1:5001/?code=abc");
    await userEvent.click(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByText(/gcal account me@example.com connected/)).toBeVisible();
    expect(fake.to("POST", "/api/mcp/accounts/sign-ins/abcdefgh123/paste")).toEqual([
      { address: "http://127.0.0.1:5001/?code=abc" },
    ]);
  });

  it("asks for what a server needs typed, hidden when it is a secret, and shows a refusal", async () => {
    const fake = fakeAngie({
      "POST /api/mcp/accounts/sign-ins": () => ({ status: 201, body: { ...waiting, id: "yahoo12345", server: "yahoo" } }),
      "GET /api/mcp/accounts/sign-ins/{sign_in_id}": () => ({
        ...waiting,
        id: "yahoo12345",
        server: "yahoo",
        state: "failed",
        error: "Yahoo refused the sign-in: wrong password",
        links: [],
        can_paste: false,
      }),
    });
    page(<ConnectAccount server={server("yahoo", ["address", "app_password"])} />);
    expect(screen.getByLabelText("app password")).toHaveAttribute("type", "password");
    expect(screen.getByLabelText("address")).toHaveAttribute("type", "text");
    await userEvent.type(screen.getByLabelText("address"), "ann@yahoo.test");
    await userEvent.type(screen.getByLabelText("app password"), "abcd efgh");
    await userEvent.click(screen.getByRole("button", { name: "Connect yahoo" }));
    expect(await screen.findByText(/wrong password/)).toBeVisible();
    await vi.waitFor(() =>
      expect(fake.to("POST", "/api/mcp/accounts/sign-ins")[0]).toEqual({
        server: "yahoo",
        label: "yahoo",
        credentials: { address: "ann@yahoo.test", app_password: "abcd efgh" },
      }),
    );
  });
});
