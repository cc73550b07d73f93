"""Outlook's failures as the kit's errors: Graph, identity platform and network, in one place."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Final

from requests import HTTPError, RequestException, Response

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
    "from_response",
    "translated",
)

SERVICE: Final = "Outlook"
AUTH_COMMAND: Final = "angie-mcp-outlook auth"


class NotSignedInError(NotConfiguredError):
    """No Microsoft account has authorised Angie, or its sign-in was revoked or expired."""

    def __init__(self, reason: str = "no Microsoft account has authorised Angie yet") -> None:
        ServerToolError.__init__(
            self,
            f"{SERVICE} is not connected: {reason}. Reconnect outlook: run `{AUTH_COMMAND}` "
            "on the server's machine, then try again.",
        )


class WriteAccessError(ServerToolError):
    """The sign-in only allows reading; a write tool needs Mail.ReadWrite and Mail.Send."""

    def __init__(self) -> None:
        super().__init__(
            f"{SERVICE} allows Angie to read only: the sign-in lacks permission to change or "
            f"send mail. Run `{AUTH_COMMAND}` again (with ANGIE_OUTLOOK_WRITES=true) to grant it."
        )


def _graph_error(response: Response) -> tuple[str, str]:
    """Graph's error code and message, from its JSON error body."""
    try:
        error = response.json()["error"]
        return str(error.get("code", "")), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", ""


def from_response(response: Response) -> ServerToolError:
    """The kit's error for a Graph error answer."""
    status = response.status_code
    code, message = _graph_error(response)
    if status == 401:
        return NotSignedInError("Microsoft refused the stored sign-in")
    if status == 403 and code in {
        "ErrorAccessDenied",
        "AccessDenied",
        "Authorization_RequestDenied",
    }:
        return WriteAccessError()
    if status == 404 or code in {"ErrorItemNotFound", "ErrorInvalidIdMalformed"}:
        return UpstreamError(
            SERVICE,
            "no such message, folder, draft or attachment (check the id with search_messages)",
            404,
        )
    retry = parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
    return from_status(
        SERVICE,
        status,
        message,
        auth_hint=f"Reconnect outlook: run `{AUTH_COMMAND}`.",
        retry_after=retry,
    )


def _from_http_error(err: HTTPError) -> ServerToolError | None:
    return from_response(err.response) if err.response is not None else None


def translated() -> AbstractContextManager[None]:
    """Re-raise requests' exceptions (O365's transport) as the kit's errors."""
    return vendor.translated(
        [
            (HTTPError, _from_http_error),
            (
                (RequestException, OSError),
                lambda _: UpstreamError(SERVICE, "could not connect; check the network."),
            ),
        ]
    )
