"""phue's Bridge made safe for a server: bounded timeouts, no config file, errors as kit errors."""

from __future__ import annotations

import contextlib
import http.client
import json
from typing import Any

import phue

from angie_mcp_core.errors import (
    InvalidArgumentError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
    from_status,
    parse_retry_after,
)
from angie_mcp_core.vendor import Rule, translated

__all__ = ("SERVICE", "HueBridge")

SERVICE = "the Hue bridge"

# The bridge answers HTTP 200 with [{"error": {"type": N, ...}}]; these types mean the request
# itself was wrong (bad JSON, missing or invalid parameter, device off, link button).
_INVALID_REQUEST_TYPES = frozenset({2, 5, 6, 7, 8, 11, 201})
_LINK_BUTTON_NOT_PRESSED = 101


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


class HueBridge(phue.Bridge):  # type: ignore[misc]  # phue.Bridge is untyped (Any)
    """A ``phue.Bridge`` whose every request fails fast with an Angie error instead of hanging,
    logging the API key or returning the bridge's error list as if it were data."""

    def __init__(
        self,
        host: str,
        username: str | None,
        *,
        timeout: float,
        auth_hint: str,
        config_file_path: str,
    ) -> None:
        self._timeout = timeout
        self._auth_hint = auth_hint
        super().__init__(ip=host, username=username, config_file_path=config_file_path)

    def connect(self) -> None:
        """Nothing to do: phue's would read ~/.python_hue, log the key, or pair on its own."""

    def request(self, mode: str = "GET", address: str | None = None, data: Any = None) -> Any:
        """phue's request with Angie's timeout (phue hard-codes 10 s) and errors translated."""
        body = json.dumps(data) if mode in ("PUT", "POST") else None
        connection = http.client.HTTPConnection(self.ip, timeout=self._timeout)
        with contextlib.closing(connection), translated(self._transport_rules):
            connection.request(mode, address or "/", body)
            response = connection.getresponse()
            raw = response.read()
        if response.status >= 400:
            raise from_status(
                SERVICE,
                response.status,
                response.reason,
                auth_hint=self._auth_hint,
                retry_after=parse_retry_after(response.getheader("Retry-After")),
            )
        try:
            answer = json.loads(raw)
        except ValueError as err:
            raise UpstreamError(
                SERVICE, f"{self.ip} did not answer like a Hue bridge (no JSON)"
            ) from err
        if isinstance(answer, list):
            for item in answer:
                if isinstance(item, dict) and isinstance(item.get("error"), dict):
                    raise self._bridge_error(item["error"])
        return answer

    @property
    def _transport_rules(self) -> list[Rule]:
        return [
            (TimeoutError, lambda _: UpstreamTimeoutError(SERVICE, self._timeout)),
            (
                (OSError, http.client.HTTPException),
                lambda err: UpstreamError(
                    SERVICE, f"could not reach it at {self.ip}: {_reason(err)}"
                ),
            ),
        ]

    def _bridge_error(self, error: dict[str, Any]) -> ServerToolError:
        kind = error.get("type")
        description = str(error.get("description", "unknown error"))
        if self.username:
            description = description.replace(self.username, "***")
        if kind == 1:
            return UnauthorizedError(SERVICE, self._auth_hint)
        if kind == _LINK_BUTTON_NOT_PRESSED:
            return InvalidArgumentError(
                "The Hue bridge's link button has not been pressed: press the round button on "
                "top of the bridge, then pair again within 30 seconds."
            )
        if kind == 3:
            return UpstreamError(SERVICE, description, 404)
        if kind in _INVALID_REQUEST_TYPES:
            return InvalidArgumentError(f"{SERVICE} refused the request: {description}.")
        return UpstreamError(SERVICE, f"{description} (error type {kind})")
