import { afterEach, describe, expect, it, vi } from "vitest";

import { session } from "./session";

const user = {
  id: 1,
  email: "sam@home.test",
  display_name: "Sam",
  preferred_name: null,
  timezone: "UTC",
  is_admin: true,
  is_active: true,
  created_at: "2026-12-04T10:00:00Z",
  last_login_at: null,
};

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = "angie_csrf=; max-age=0";
});

describe("session", () => {
  it("refreshes once however many ask at the same time (a refresh token works once)", async () => {
    document.cookie = "angie_csrf=c1";
    const seen: Request[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(new URL(String(input), "http://127.0.0.1"), init));
      await new Promise((resolve) => setTimeout(resolve, 10));
      return Response.json({ access_token: "a2", token_type: "bearer", expires_in: 900, user });
    });
    const answers = await Promise.all([session.refresh(), session.refresh(), session.refresh()]);
    expect(answers).toEqual([true, true, true]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.get("X-Angie-CSRF")).toBe("c1");
    expect(session.accessToken()).toBe("a2");
    expect(session.snapshot()).toMatchObject({ status: "signed-in", user: { email: "sam@home.test" } });
  });

  it("is signed out without asking when the browser holds no sign-in", async () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    expect(await session.refresh()).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
    expect(session.snapshot()).toEqual({ status: "signed-out", reason: undefined });
    expect(session.accessToken()).toBeNull();
  });
});
