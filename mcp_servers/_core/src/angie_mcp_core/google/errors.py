"""Google's failures as the kit's errors: API, OAuth and network errors, in one place."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

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
from angie_mcp_core.google.service import GoogleService

__all__ = ("NO_ACCOUNT", "NotSignedInError", "WriteAccessError", "translated")

NO_ACCOUNT = "no Google account has authorised Angie yet"


class NotSignedInError(NotConfiguredError):
    """No Google account has authorised Angie, or its sign-in was revoked or expired."""

    def __init__(self, service: GoogleService, reason: str = NO_ACCOUNT) -> None:
        ServerToolError.__init__(
            self,
            f"{service.name} is not connected: {reason}. Reconnect {service.server}: run "
            f"`{service.auth_command}` on the server's machine, then try again.",
        )


class WriteAccessError(ServerToolError):
    """The sign-in only allows reading; a write tool needs the write scopes."""

    def __init__(self, service: GoogleService) -> None:
        super().__init__(
            f"{service.name} allows Angie to read only: the sign-in lacks permission to change "
            f"{service.changes}. Run `{service.auth_command}` again (with "
            f"{service.env('writes')}=true) to grant it."
        )


def translated(service: GoogleService) -> AbstractContextManager[None]:
    """Re-raise googleapiclient's and google-auth's exceptions as the kit's errors."""
    return vendor.translated(
        [
            (HttpError, lambda err: _from_http_error(service, err)),
            (RefreshError, lambda err: _from_refresh_error(service, err)),
            (
                (TransportError, OSError),
                lambda _: UpstreamError(service.name, "could not connect; check the network."),
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


def _from_http_error(service: GoogleService, err: HttpError) -> ServerToolError:
    status = int(err.resp.status)
    reason, message = _reason(err)
    if reason in {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}:
        return WriteAccessError(service)
    if status == 401:
        return NotSignedInError(service, "Google refused the stored sign-in")
    if status == 403 and reason in {"rateLimitExceeded", "userRateLimitExceeded"}:
        status = 429
    retry = parse_retry_after(err.resp.get("retry-after")) if status == 429 else None
    if status == 404:
        return UpstreamError(service.name, service.not_found, status)
    if status == 410 and service.gone:
        return UpstreamError(service.name, service.gone, status)
    return from_status(
        service.name,
        status,
        message,
        auth_hint=f"Reconnect {service.server}: run `{service.auth_command}`.",
        retry_after=retry,
    )


def _from_refresh_error(service: GoogleService, err: RefreshError) -> ServerToolError:
    text = " ".join(str(a) for a in err.args)
    if "invalid_grant" in text:
        return NotSignedInError(service, "Google revoked the sign-in or it expired")
    if "invalid_client" in text:
        return NotConfiguredError(
            service.name,
            [service.env("client_id"), service.env("client_secret")],
            "Google does not know this OAuth client; check both.",
        )
    return UpstreamError(service.name, "refreshing the sign-in failed; try again later.")
