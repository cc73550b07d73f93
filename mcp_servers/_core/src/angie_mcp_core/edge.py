"""The edge of a server on streamable HTTP: only its own Host names and Origins, then its token.

A web page can point a name of its own at 127.0.0.1 (DNS rebinding) or post to a loopback
port from another origin; neither reaches the MCP endpoint. Every refusal is one plain line
saying which setting would change it. Plain ASGI middleware, so streams pass through.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ("LOOPBACK_HOSTS", "WILDCARD_BINDS", "HttpEdge", "canonical_host", "canonical_origin")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Bind addresses that name no host of their own (every interface).
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


def canonical_host(value: str) -> str:
    """The name of a Host header, lower case, an IP in its usual form: ``[::1]:80`` → ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value.rstrip(".")


def canonical_origin(value: str) -> str | None:
    """``scheme://host[:port]`` with the default port dropped, or None if it is not an origin."""
    try:
        parts = urlsplit(value.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        return None
    host = canonical_host(parts.hostname)
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{shown}" if port in (None, default) else f"{scheme}://{shown}:{port}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class HttpEdge:
    """Refuse, before the MCP endpoint runs: a Host that is not the server's (421), a request
    from a web page of a foreign Origin (403), and on ``path`` a missing or wrong bearer token
    (401, saying plainly that a static token is expected, so no client starts OAuth).

    Allowed hosts are loopback, the bind host and ``hosts``, on any port; allowed origins are
    those hosts over http or https, and ``origins``. No Origin (a script, Angie) is fine.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        realm: str,
        token: str,
        token_setting: str,
        hosts_setting: str,
        origins_setting: str,
        path: str,
        bind_host: str = "127.0.0.1",
        hosts: Iterable[str] = (),
        origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        named = {canonical_host(h) for h in (bind_host, *hosts) if h.strip() not in WILDCARD_BINDS}
        self.hosts = frozenset(LOOPBACK_HOSTS | named)
        self.origins = frozenset(o for o in map(canonical_origin, origins) if o)
        self._realm = realm
        self._token = token.encode("utf-8")
        self._token_setting = token_setting
        self._hosts_setting = hosts_setting
        self._origins_setting = origins_setting
        self._path = path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message, extra = refusal
        body = f"{message}\n".encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        host = _header(scope, b"host")
        if not host:
            return 400, "the request has no Host header", []
        if canonical_host(host) not in self.hosts:
            return (
                421,
                f"Host {canonical_host(host)[:100]} is not one of this server's: add it to "
                f"{self._hosts_setting} (comma separated) if clients reach the server by it",
                [],
            )
        origin = _header(scope, b"origin")
        if origin is not None and not self._own_origin(origin):
            return (
                403,
                f"requests from the web page at {origin[:100]} are refused: add the origin to "
                f"{self._origins_setting} (comma separated) if it may use this server",
                [],
            )
        if str(scope.get("path", "")).rstrip("/") == self._path:
            return self._unauthorized(scope)
        return None

    def _own_origin(self, origin: str) -> bool:
        canonical = canonical_origin(origin)
        if canonical is None:
            return False
        if canonical in self.origins:
            return True
        return canonical_host(urlsplit(canonical).netloc) in self.hosts

    def _unauthorized(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        expected = (
            f"this server expects a static bearer token, sent as "
            f'"Authorization: Bearer <token>" (the value of {self._token_setting}); '
            "it does not use OAuth"
        )
        challenge = f'Bearer realm="{self._realm}"'
        authorization = _header(scope, b"authorization") or ""
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return 401, f"no bearer token: {expected}", [(b"www-authenticate", challenge.encode())]
        if not hmac.compare_digest(presented.strip().encode("utf-8"), self._token):
            challenge += ', error="invalid_token"'
            return (
                401,
                f"the bearer token is not this server's: {expected}",
                [(b"www-authenticate", challenge.encode())],
            )
        return None
