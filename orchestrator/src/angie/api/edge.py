"""The API's edge: only Angie's own Host names and Origins, bounded headers, safe response headers.

A web page can point a name of its own at 127.0.0.1 (DNS rebinding) or post from another
origin; neither reaches a route. Plain ASGI middleware, so streams and WebSockets pass through.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from angie.api.middleware import error_json
from angie_mcp_core.edge import LOOPBACK_HOSTS, WILDCARD_BINDS, canonical_host

__all__ = (
    "LOOPBACK_HOSTS",
    "MAX_HEADERS",
    "MAX_HEADERS_TOTAL_BYTES",
    "MAX_HEADER_BYTES",
    "EdgeGuard",
    "SecurityHeaders",
    "host_name",
)

MAX_HEADERS = 100
MAX_HEADER_BYTES = 8_192
# Below the wire cap the daemon gives uvicorn, so Angie answers the usual excess herself.
MAX_HEADERS_TOTAL_BYTES = 32_768
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Swagger UI at /api/docs loads its script, style and icon from Angie (/api/docs/assets) and
# runs one inline script that starts it; nothing comes from another origin.
_CSP_API = b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
_CSP_DOCS = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def host_name(value: str) -> str:
    """The name part of a Host header or netloc, lower case: ``[::1]:8000`` → ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    return list(scope.get("headers", ()))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in _headers(scope):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _body(status: int, code: str, message: str, scope: Scope) -> bytes:
    request_id = scope.get("state", {}).get("request_id") or ""
    return error_json(status, code, message, request_id)


class EdgeGuard:
    """Refuse, before any route runs: too many or too large headers (431), a Host that is not
    Angie's (421), and a state-changing request or WebSocket from a foreign Origin (403)."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str] = ()) -> None:
        self.app = app
        named = {canonical_host(h) for h in hosts if h.strip() and h.strip() not in WILDCARD_BINDS}
        self.hosts = frozenset(LOOPBACK_HOSTS | named)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        body = _body(status, code, message, scope)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            # Closing before accepting refuses the handshake (the server answers 403).
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})

    def _refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        headers = _headers(scope)
        if len(headers) > MAX_HEADERS:
            return 431, "headers_too_large", f"the request has more than {MAX_HEADERS} headers"
        total = 0
        for key, value in headers:
            size = len(key) + len(value)
            if size > MAX_HEADER_BYTES:
                name = key.decode("latin-1")[:40]
                return (
                    431,
                    "headers_too_large",
                    f"the {name} header is larger than {MAX_HEADER_BYTES} bytes",
                )
            total += size
        if total > MAX_HEADERS_TOTAL_BYTES:
            return (
                431,
                "headers_too_large",
                f"the headers are larger than {MAX_HEADERS_TOTAL_BYTES} bytes together",
            )
        host = _header(scope, b"host")
        if not host:
            return 400, "bad_request", "the request has no Host header"
        if canonical_host(host) not in self.hosts:
            shown = host_name(host)[:100]
            return (
                421,
                "unknown_host",
                f"Host {shown} is not one of Angie's: set ANGIE_ALLOWED_HOSTS to the names "
                "she is reached by (comma separated)",
            )
        origin = _header(scope, b"origin")
        changes = scope["type"] == "websocket" or scope.get("method") not in _SAFE_METHODS
        if origin is not None and changes and not self._own_origin(origin):
            return (
                403,
                "forbidden",
                f"requests from the web page at {origin[:100]} are refused: it is not one of "
                "Angie's own origins (add its host to ANGIE_ALLOWED_HOSTS if it is hers)",
            )
        return None

    def _own_origin(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin.strip())
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            return False
        return canonical_host(parts.netloc) in self.hosts


class SecurityHeaders:
    """Headers on every response: no sniffing, no referrer, no framing, a strict content policy,
    and no caching of API answers (they carry personal data and tokens)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        policy = _CSP_DOCS if path.startswith("/api/docs") else _CSP_API
        api = path == "/api" or path.startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (api and k.lower() == b"cache-control")
                ]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", policy),
                ]
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
