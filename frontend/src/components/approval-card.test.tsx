import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

// The API client keeps the fetch it was made with: put the fake one in place first.
const calls = vi.hoisted(() => {
  const seen: Request[] = [];
  let answer = { status: 200, body: {} as unknown };
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json" },
    });
  };
  return { seen, answer: (status: number, body: unknown) => (answer = { status, body }) };
});

import { ApprovalCard } from "./approval-card";

const ask = { id: 7, server: "hue", tool: "set_light", arguments: { name: "Floor lamp", on: true } };

function shown() {
  const client = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <ApprovalCard ask={ask} />
    </QueryClientProvider>,
  );
}

afterEach(() => {
  calls.seen.length = 0;
});

describe("ApprovalCard", () => {
  it("shows the exact arguments and approves with the keyboard", async () => {
    calls.answer(200, { id: 7, status: "approved" });
    shown();
    const card = screen.getByRole("group", { name: "Approve hue.set_light?" });
    expect(card).toHaveTextContent('"name": "Floor lamp"');
    await userEvent.tab();
    expect(screen.getByRole("button", { name: "Approve" })).toHaveFocus();
    await userEvent.keyboard("{Enter}");
    expect(await screen.findByRole("status")).toHaveTextContent("Approved");
    expect(calls.seen.map((r) => [r.method, new URL(r.url).pathname])).toEqual([
      ["POST", "/api/approvals/7/approve"],
    ]);
  });

  it("denies after asking, and says why when Angie refuses the answer", async () => {
    calls.answer(409, { error: { code: "conflict", message: "this approval has expired" } });
    shown();
    await userEvent.click(screen.getByRole("button", { name: "Deny" }));
    await userEvent.click(await screen.findByRole("button", { name: "Deny the call" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("this approval has expired");
    expect(new URL(calls.seen[0]!.url).pathname).toBe("/api/approvals/7/deny");
    expect(screen.getByRole("button", { name: "Deny" })).toBeEnabled();
  });
});
