// Who is signed in: the access token lives in this module's memory only; the refresh token is an
// HttpOnly cookie the page never sees, used through /api/auth/browser with a CSRF header.
import type { components } from "./schema";

type User = components["schemas"]["UserOut"];
type Tokens = components["schemas"]["BrowserTokenOut"];

export type SessionState =
  | { status: "loading" }
  | { status: "signed-out"; reason?: string }
  | { status: "signed-in"; user: User };

const CSRF_COOKIE = "angie_csrf";
const CSRF_HEADER = "X-Angie-CSRF";
// Refresh a minute before the access token expires.
const EARLY_SECONDS = 60;

function csrfToken(): string {
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : "";
}

async function message(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON: the status says enough
  }
  return `Angie answered ${response.status}`;
}

class Session {
  private state: SessionState = { status: "loading" };
  private token: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private listeners = new Set<() => void>();
  private refreshing: Promise<boolean> | null = null;

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): SessionState => this.state;

  accessToken(): string | null {
    return this.token;
  }

  private set(state: SessionState) {
    this.state = state;
    this.listeners.forEach((listener) => listener());
  }

  private take(tokens: Tokens) {
    this.token = tokens.access_token;
    clearTimeout(this.timer);
    const seconds = Math.max(10, tokens.expires_in - EARLY_SECONDS);
    this.timer = setTimeout(() => void this.refresh(), seconds * 1000);
    this.set({ status: "signed-in", user: tokens.user });
  }

  private clear(reason?: string) {
    this.token = null;
    clearTimeout(this.timer);
    this.set({ status: "signed-out", reason });
  }

  async signIn(email: string, password: string): Promise<void> {
    const response = await fetch("/api/auth/browser/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) throw new Error(await message(response));
    this.take((await response.json()) as Tokens);
  }

  /** Sign in again from the refresh cookie (at start, before the token expires, after a 401).
   * Each refresh token works once and a reuse ends the login, so refreshes never overlap: one
   * at a time in this page, and one at a time across this browser's tabs (a Web Lock). */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<boolean> {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    return locks ? locks.request("angie-refresh", () => this.exchange()) : this.exchange();
  }

  private async exchange(): Promise<boolean> {
    // Read inside the lock: another tab may just have rotated both cookies.
    const csrf = csrfToken();
    if (!csrf) {
      this.clear();
      return false;
    }
    const response = await fetch("/api/auth/browser/refresh", {
      method: "POST",
      headers: { [CSRF_HEADER]: csrf },
    });
    if (!response.ok) {
      this.clear(response.status === 401 ? undefined : await message(response));
      return false;
    }
    this.take((await response.json()) as Tokens);
    return true;
  }

  async signOut(): Promise<void> {
    const token = this.token;
    this.clear();
    if (token) {
      await fetch("/api/auth/browser/logout", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, [CSRF_HEADER]: csrfToken() },
      });
    }
  }

  /** The access token was refused: get a new one, or show the sign-in page. */
  expired() {
    if (this.state.status !== "signed-in") return;
    void this.refresh().then((again) => {
      if (!again) this.clear("Your sign-in ended; sign in again.");
    });
  }
}

export const session = new Session();
