// The one API client: typed from Angie's OpenAPI schema, signed in with the session's token.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";
import { session } from "./session";

export type Schemas = components["schemas"];

const signedIn: Middleware = {
  onRequest({ request }) {
    const token = session.accessToken();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ request, response }) {
    // An access token that stopped working (signed out elsewhere, expired): sign in again.
    if (response.status === 401 && !new URL(request.url).pathname.startsWith("/api/auth/")) {
      session.expired();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(signedIn);

/** The one sentence a failed call says: Angie's error message, or what went wrong. */
export function problem(error: unknown): string {
  if (error && typeof error === "object" && "error" in error) {
    const info = (error as { error?: { message?: unknown } }).error;
    if (info && typeof info.message === "string") return info.message;
  }
  if (error instanceof Error) return error.message;
  return "Angie did not answer as expected; try again.";
}

/** The data of a call, or an Error with Angie's message. */
export async function data<T>(call: Promise<{ data?: T; error?: unknown }>): Promise<T> {
  const { data, error } = await call;
  if (error !== undefined || data === undefined) throw new Error(problem(error));
  return data;
}

/** A call that answers nothing (204), or an Error with Angie's message. */
export async function done(call: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  const { error, response } = await call;
  if (error !== undefined || !response.ok) throw new Error(problem(error));
}
