"""The HTTP client for servers that talk to a REST API directly (no vendor SDK).

Timeouts on every call, retries with exponential backoff for idempotent methods only (a POST is
never sent twice), Angie's user agent, and vendor errors translated into the kit's errors.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from importlib.metadata import version as dist_version
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from angie_mcp_core.errors import (
    UpstreamError,
    UpstreamTimeoutError,
    from_status,
    parse_retry_after,
)

__all__ = (
    "IDEMPOTENT_METHODS",
    "RetryTransport",
    "check_response",
    "create_http_client",
    "request",
    "retry_after",
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


class RetryTransport(httpx.AsyncBaseTransport):
    """Retries idempotent requests after connection errors and 502/503/504 answers."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 2.0,
    ) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._attempts = max(1, attempts)
        self._wait = wait_exponential_jitter(multiplier=backoff, max=max_backoff, jitter=backoff)

    async def _once(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.status_code in RETRY_STATUSES:
            await response.aread()  # keep the body for the caller if this was the last try
            await response.aclose()
            raise _RetryableStatus(response)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in IDEMPOTENT_METHODS:
            return await self._inner.handle_async_request(request)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatus)),
            reraise=True,
        )
        try:
            return await retrying(self._once, request)
        except _RetryableStatus as last:
            return last.response

    async def aclose(self) -> None:
        await self._inner.aclose()


def create_http_client(
    server: str,
    *,
    base_url: str,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
    attempts: int = 3,
    backoff: float = 0.2,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for one vendor API; close it with ``aclose()``."""
    agent = f"angie-mcp-{server}/{dist_version('angie-mcp-core')}"
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": agent, **(headers or {})},
        transport=RetryTransport(transport, attempts=attempts, backoff=backoff),
        follow_redirects=False,
    )


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date, against the response's Date)."""
    date = response.headers.get("date")
    try:
        now = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        now = None
    return parse_retry_after(response.headers.get("retry-after"), now)


def check_response(
    response: httpx.Response, service: str, *, auth_hint: str = "Check the server's credentials."
) -> httpx.Response:
    """Return the response when it succeeded; else raise the kit's error for its status."""
    if response.is_success:
        return response
    detail = response.text[:300] if response.text else response.reason_phrase
    raise from_status(
        service,
        response.status_code,
        detail,
        auth_hint=auth_hint,
        retry_after=retry_after(response),
    )


async def request(
    client: httpx.AsyncClient, service: str, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Send one request; network failures and timeouts become the kit's errors."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as err:
        timeout = client.timeout.read or 0.0
        raise UpstreamTimeoutError(service, timeout) from err
    except httpx.TransportError as err:
        raise UpstreamError(service, f"cannot connect ({type(err).__name__})") from err
    return check_response(response, service)
