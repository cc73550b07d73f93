"""Gmail's failures as the kit's errors: API, OAuth and network errors, in one place."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Final

from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from angie_mcp_core import vendor
from angie_mcp_core.errors import (
    NotConfiguredError,
    ServerToolError,
    UpstreamError,
    from_status,
    parse_retry_after,
)

__all__ = (
    "AUTH_COMMAND",
    "SERVICE",
    "NotSignedInError",
    "WriteAccessError",
    "translated",
)

SERVICE: Final = "Gmail"
AUTH_COMMAND: Final = "angie-mcp-gmail auth"


class NotSignedInError(NotConfiguredError):
    """No Google account has authorised Angie, or its sign-in was revoked or expired."""

    def __init__(self, reason: str = "no Google account has authorised Angie yet") -> None:
        ServerToolError.__init__(
            self,
            f"{SERVICE} is not connected: {reason}. Reconnect gmail: run `{AUTH_COMMAND}` on "
            "the server's machine, then try again.",
        )


class WriteAccessError(ServerToolError):
    """The sign-in only allows reading; a write tool needs the modify and compose scopes."""

    def __init__(self) -> None:
        super().__init__(
            f"{SERVICE} allows Angie to read only: the sign-in lacks permission to change "
            f"mail. Run `{AUTH_COMMAND}` again (with ANGIE_GMAIL_WRITES=true) to grant it."
        )


def translated() -> AbstractContextManager[None]:
    """Re-raise googleapiclient's and google-auth's exceptions as the kit's errors."""
    return vendor.translated(
        [
            (HttpError, _from_http_error),
            (RefreshError, _from_refresh_error),
            (
                (TransportError, OSError),
                lambda _: UpstreamError(SERVICE, "could not connect; check the network."),
            ),
        ]
    )


def _reason(err: HttpError) -> tuple[str, str]:
    """Google's first error reason and its message, from the JSON error body."""
    try:
        body = json.loads(err.content.decode("utf-8", "replace"))
        error = body["error"]
        reasons = [e.get("reason", "") for e in error.get("errors", [])]
        return (reasons[0] if reasons else ""), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


def _from_http_error(err: HttpError) -> ServerToolError:
    status = int(err.resp.status)
    reason, message = _reason(err)
    if reason in {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}:
        return WriteAccessError()
    if status == 401:
        return NotSignedInError("Google refused the stored sign-in")
    if status == 403 and reason in {"rateLimitExceeded", "userRateLimitExceeded"}:
        status = 429
    retry = parse_retry_after(err.resp.get("retry-after")) if status == 429 else None
    if status == 404:
        return UpstreamError(
            SERVICE,
            "no such message, thread, draft or attachment (check the id with search_messages)",
            status,
        )
    return from_status(
        SERVICE,
        status,
        message,
        auth_hint=f"Reconnect gmail: run `{AUTH_COMMAND}`.",
        retry_after=retry,
    )


def _from_refresh_error(err: RefreshError) -> ServerToolError:
    text = " ".join(str(a) for a in err.args)
    if "invalid_grant" in text:
        return NotSignedInError("Google revoked the sign-in or it expired")
    if "invalid_client" in text:
        return NotConfiguredError(
            SERVICE,
            ["ANGIE_GMAIL_CLIENT_ID", "ANGIE_GMAIL_CLIENT_SECRET"],
            "Google does not know this OAuth client; check both.",
        )
    return UpstreamError(SERVICE, "refreshing the sign-in failed; try again later.")
