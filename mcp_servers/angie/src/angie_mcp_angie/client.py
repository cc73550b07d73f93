"""Angie's REST API through httpx with one person's token; its errors become the kit's.

Every answer of the API is JSON; an error carries ``{"error": {"message": …}}``, which is
passed on to the model (it names a missing scope, a bad field, a missing row).
"""

from __future__ import annotations

from typing import Any

import httpx

from angie_mcp_angie.settings import AngieSettings
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    RateLimitedError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
    parse_retry_after,
)

__all__ = ("SERVICE", "AngieClient")

SERVICE = "Angie's API"
RECONNECT = (
    "The token is unknown, revoked or expired: reconnect the server with "
    "`angie mcp connect angie` to give it a new one."
)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no detail"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return response.reason_phrase or "no detail"


def error_for(response: httpx.Response) -> ServerToolError:
    """The model's error for an API error answer."""
    status, message = response.status_code, _message(response)
    if status == 401:
        return UnauthorizedError(SERVICE, RECONNECT)
    if status == 403:
        return InvalidArgumentError(f"Not allowed: {message}")
    if status == 404:
        return InvalidArgumentError(f"Not found: {message}")
    if status == 409:
        return InvalidArgumentError(f"Conflict: {message}")
    if status == 422:
        return InvalidArgumentError(f"Angie refused it: {message}")
    if status == 429:
        return RateLimitedError(SERVICE, parse_retry_after(response.headers.get("retry-after")))
    if 400 <= status < 500:
        return InvalidArgumentError(f"{SERVICE} refused the request (HTTP {status}): {message}")
    return UpstreamError(SERVICE, message, status)


class AngieClient:
    """A small async client of the API routes the tools use."""

    def __init__(self, settings: AngieSettings, transport: httpx.AsyncBaseTransport | None = None):
        self._settings = settings
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        missing = self._settings.missing()
        if missing:
            raise NotConfiguredError(
                SERVICE, missing, "Run `angie mcp connect angie` to make a token for it."
            )
        if self._http is None:
            assert self._settings.url is not None
            assert self._settings.api_token is not None
            self._http = httpx.AsyncClient(
                base_url=f"{self._settings.url}/api",
                headers={"Authorization": f"Bearer {self._settings.api_token.get_secret_value()}"},
                timeout=self._settings.timeout,
                transport=self._transport,
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """The JSON answer of one call (``None`` for 204); errors raised as the kit's."""
        try:
            response = await self._client().request(method, path, params=params, json=json)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(SERVICE, self._settings.timeout) from None
        except httpx.HTTPError as err:
            raise UpstreamError(SERVICE, f"cannot reach it ({type(err).__name__})") from None
        if response.status_code >= 400:
            raise error_for(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.request("GET", path, params=clean)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.request("POST", path, json=body)

    async def delete(self, path: str) -> Any:
        return await self.request("DELETE", path)
