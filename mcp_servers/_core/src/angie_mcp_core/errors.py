"""The errors a model sees from Angie's MCP servers: each says what went wrong and what to do.

Servers raise these (or let :func:`from_status` pick one for an HTTP status); anything else is
masked by FastMCP (``mask_error_details=True``) so internals never reach the model. Vendor
exceptions are translated where the vendor is called, with ``raise … from err``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from fastmcp.exceptions import ToolError

__all__ = (
    "InvalidArgumentError",
    "NotConfiguredError",
    "NotFoundError",
    "RateLimitedError",
    "ServerToolError",
    "UnauthorizedError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "close_matches",
    "from_status",
    "parse_retry_after",
)


class ServerToolError(ToolError):
    """Base of every error an Angie MCP server reports to the model."""


class NotConfiguredError(ServerToolError):
    def __init__(self, service: str, missing: Iterable[str], hint: str = "") -> None:
        names = ", ".join(missing)
        message = f"{service} is not configured: set {names} in the server's environment."
        super().__init__(f"{message} {hint}".strip())


def close_matches(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """Known names close to ``name``, case-insensitively, best first."""
    by_lower = {k.lower(): k for k in known}
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=limit, cutoff=0.5)
    return [by_lower[f] for f in found]


class NotFoundError(ServerToolError):
    def __init__(self, kind: str, name: str, known: Iterable[str] = ()) -> None:
        known = list(known)
        message = f"No {kind} named {name!r}."
        suggestions = close_matches(name, known)
        if suggestions:
            message += f" Did you mean {', '.join(repr(s) for s in suggestions)}?"
        elif known:
            shown = ", ".join(repr(k) for k in sorted(known)[:20])
            message += f" Known {kind}s: {shown}{', …' if len(known) > 20 else ''}."
        super().__init__(message)


class InvalidArgumentError(ServerToolError):
    """An argument the schema allowed but the operation cannot take (out of range, ambiguous)."""


class UpstreamError(ServerToolError):
    def __init__(self, service: str, detail: str, status: int | None = None) -> None:
        code = f" (HTTP {status})" if status else ""
        super().__init__(f"{service} failed{code}: {detail}")
        self.status = status


class UnauthorizedError(UpstreamError):
    def __init__(self, service: str, hint: str) -> None:
        super().__init__(service, f"it rejected Angie's credentials. {hint}", status=401)


class RateLimitedError(ServerToolError):
    def __init__(self, service: str, retry_after: float | None = None) -> None:
        wait = f" Try again in {retry_after:g} seconds." if retry_after else " Try again later."
        super().__init__(f"{service} is rate limiting requests.{wait}")
        self.retry_after = retry_after


class UpstreamTimeoutError(ServerToolError):
    def __init__(self, service: str, seconds: float) -> None:
        super().__init__(
            f"{service} did not answer within {seconds:g} seconds; it may be offline or busy."
        )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def from_status(
    service: str,
    status: int,
    detail: str = "",
    *,
    auth_hint: str = "Check the server's credentials.",
    retry_after: float | None = None,
) -> ServerToolError:
    """The error for a vendor's HTTP error status."""
    if status == 401 or status == 403:
        return UnauthorizedError(service, auth_hint)
    if status == 429:
        return RateLimitedError(service, retry_after)
    if status == 404:
        return UpstreamError(service, detail or "the item was not found", status)
    if 400 <= status < 500:
        return InvalidArgumentError(f"{service} refused the request (HTTP {status}): {detail}")
    return UpstreamError(service, detail or "the service had an internal error", status)
