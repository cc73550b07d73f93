"""Request ids, one access-log line per request (no query strings, no headers) and a body cap.

Plain ASGI middleware: it neither buffers nor breaks streaming responses and WebSockets.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from angie.logs import request_id_var

__all__ = ("MAX_BODY_BYTES", "RequestContext", "error_json", "request_id_var")

log = logging.getLogger("angie.api.access")

MAX_BODY_BYTES = 1_048_576
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _TooLarge(HTTPException):
    """Raised while the body is read: an HTTPException, so the app (which wraps other errors
    met while reading a body into a 400) answers it with the 413 itself."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def error_json(status: int, code: str, message: str, request_id: str) -> bytes:
    body = {"error": {"code": code, "message": message}, "request_id": request_id}
    return json.dumps(body).encode()


class RequestContext:
    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
                return
            await self._http(scope, receive, send, request_id)
        finally:
            request_id_var.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500
        response_started = False
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            status = await self._reject(send, request_id, declared)
            self._log(scope, status, started, request_id)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not response_started:
                await self._reject(send, request_id, None)
            status = 413
        finally:
            self._log(scope, status, started, request_id)

    async def _reject(self, send: Send, request_id: str, declared: str | None) -> int:
        status, code = 413, "payload_too_large"
        message = f"the body is larger than {self.max_body} bytes"
        if declared is not None and not declared.isdigit():
            status, code = 400, "bad_request"
            message = "the Content-Length header is not a number"
        body = error_json(status, code, message, request_id)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return status

    def _log(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        extra: dict[str, Any] = {
            "request_id": request_id,
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        user_id = scope.get("state", {}).get("user_id")
        if user_id is not None:
            extra["user_id"] = user_id
        log.info(
            "%s %s %s %.1fms",
            extra["method"],
            extra["path"],
            status,
            extra["duration_ms"],
            extra=extra,
        )
