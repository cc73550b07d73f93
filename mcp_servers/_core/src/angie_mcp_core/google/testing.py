"""A fake Google OAuth server for the fakes of Google's APIs: consent, code exchange, refresh,
revocation and bearer tokens with their scopes, as Google enforces them.

A fake API subclasses :class:`FakeGoogle`, answers its own paths in :meth:`FakeGoogle.api`
with the request's granted scopes, and refuses a write the scopes do not allow with
:func:`google_error` (403 ``insufficientPermissions``), as Google does.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from angie_mcp_core.fakes import FakeService, Reply, Request

__all__ = ("CLIENT_ID", "CLIENT_SECRET", "FakeGoogle", "google_error", "insufficient_scopes")

CLIENT_ID: Final = "angie-test.apps.googleusercontent.com"
CLIENT_SECRET: Final = "fake-google-client-secret"


def google_error(status: int, reason: str, message: str) -> Reply:
    """An error in the shape Google's JSON APIs answer with."""
    return Reply.json(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"reason": reason, "message": message}],
            }
        },
    )


def insufficient_scopes() -> Reply:
    return google_error(
        403, "insufficientPermissions", "Request had insufficient authentication scopes."
    )


class FakeGoogle(FakeService):
    """One Google account (``me@example.com``) behind Google's OAuth endpoints.

    ``sign_in(scopes)`` issues tokens and returns what the server's ``auth`` would store;
    ``revoke(refresh_token)`` makes its refresh fail with ``invalid_grant``;
    ``expire_access_tokens()`` makes every access token a 401. ``default_scopes`` are what a
    sign-in grants when no scopes are given.
    """

    default_scopes: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.me = "me@example.com"
        self._access: dict[str, set[str]] = {}
        self._refresh: dict[str, set[str]] = {}
        self._codes: dict[str, set[str]] = {}

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def auth_uri(self) -> str:
        return f"{self.url}/auth"

    def sign_in(
        self,
        scopes: list[str] | None = None,
        *,
        lifetime: int = 3600,
        granted_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Tokens as the server's ``auth`` stores them; ``default_scopes`` unless given."""
        granted = set(scopes or self.default_scopes)
        with self.lock:
            refresh = f"1//refresh-{secrets.token_hex(8)}"
            self._refresh[refresh] = granted
            token = self._issue(granted)
        return {
            "token": token,
            "refresh_token": refresh,
            "expiry": (datetime.now(UTC) + timedelta(seconds=lifetime)).isoformat(),
            "scopes": sorted(granted),
            "granted_at": (granted_at or datetime.now(UTC)).isoformat(),
        }

    def revoke(self, refresh_token: str) -> None:
        with self.lock:
            self._refresh.pop(refresh_token, None)
            self._access.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            self._access.clear()

    def _issue(self, scopes: set[str]) -> str:
        token = f"ya29.fake-{secrets.token_hex(12)}"
        self._access[token] = scopes
        return token

    # -- HTTP --------------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if request.path == "/auth":
            return self._consent(request)
        auth = request.headers.get("authorization", "")
        scopes = (
            self._access.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        return self.api(request, scopes)

    def api(self, request: Request, scopes: set[str] | None) -> Reply:
        """Answer one API request; ``scopes`` are its bearer token's, None without a valid
        one (answer 401 then, after a 404 for paths the API does not have)."""
        raise NotImplementedError

    @staticmethod
    def unauthorised() -> Reply:
        return google_error(401, "authError", "Invalid Credentials")

    def _token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        client = (form.get("client_id"), form.get("client_secret"))
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            # Google takes the client's credentials in the body or as HTTP Basic (oauthlib's).
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            client = (unquote_plus(user), unquote_plus(password))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return Reply.json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            scopes = self._refresh.get(form.get("refresh_token", ""))
            if scopes is None:
                return Reply.json(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            return Reply.json(
                200,
                {
                    "access_token": self._issue(scopes),
                    "expires_in": 3599,
                    "token_type": "Bearer",
                    "scope": " ".join(sorted(scopes)),
                },
            )
        if grant == "authorization_code":
            scopes = self._codes.pop(form.get("code", ""), None)
            if scopes is None:
                return Reply.json(400, {"error": "invalid_grant", "error_description": "Bad code."})
            refresh = f"1//refresh-{secrets.token_hex(8)}"
            self._refresh[refresh] = scopes
            return Reply.json(
                200,
                {
                    "access_token": self._issue(scopes),
                    "refresh_token": refresh,
                    "expires_in": 3599,
                    "token_type": "Bearer",
                    "scope": " ".join(sorted(scopes)),
                },
            )
        return Reply.json(400, {"error": "unsupported_grant_type"})

    def _consent(self, request: Request) -> Reply:
        """The person allowing every scope asked for: a redirect back with a code."""
        q = {k: v[-1] for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or urlsplit(redirect).hostname != "127.0.0.1":
            return Reply(400, b"bad client or redirect_uri")
        code = secrets.token_urlsafe(12)
        self._codes[code] = set(q.get("scope", "").split())
        query = urlencode({"code": code, "state": q.get("state", ""), "scope": q.get("scope", "")})
        return Reply(302, b"", {"Location": f"{redirect}?{query}"})
