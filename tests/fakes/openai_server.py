"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

Real clients (the ``openai`` SDK under pydantic-ai, the Copilot runtime with BYOK) talk to it over
HTTP: it answers ``/v1/chat/completions`` (plain JSON or SSE) and ``/v1/models``, records what each
request carried and can fail on purpose.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = (
    "FakeOpenAI",
    "RecordedRequest",
    "Reply",
    "Respond",
    "ToolCall",
    "echo",
    "last_user_text",
    "tool_results",
)

# Text is streamed in pieces this long, so a client sees several deltas even for short answers.
_STREAM_PIECE = 8


@dataclass(frozen=True)
class ToolCall:
    """One function call the fake model asks for; ``id`` is generated when left empty."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """What the fake model answers: text, tool calls, or both."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()

    @classmethod
    def say(cls, text: str) -> Reply:
        return cls(text=text)

    @classmethod
    def call(cls, name: str, arguments: Mapping[str, Any] | None = None) -> Reply:
        return cls(tool_calls=(ToolCall(name, dict(arguments or {})),))


# A script: gets the request's JSON body, returns the answer (a plain string means text).
Respond = Callable[[dict[str, Any]], Reply | str]


def _content_text(content: Any) -> str:
    """The text of a message's ``content``: a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def last_user_text(request: Mapping[str, Any]) -> str:
    """The text of the last ``user`` message in a chat-completions request."""
    for message in reversed(request.get("messages", [])):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def tool_results(request: Mapping[str, Any]) -> list[str]:
    """The contents of the ``tool`` messages (tool results) a request carries, in order."""
    return [
        _content_text(message.get("content"))
        for message in request.get("messages", [])
        if message.get("role") == "tool"
    ]


def echo(request: dict[str, Any]) -> Reply:
    """The default script: repeat the last user message."""
    return Reply.say(f"You said: {last_user_text(request)}")


@dataclass(frozen=True)
class RecordedRequest:
    """One chat-completions request as the fake received it (header names in lower case)."""

    headers: Mapping[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.body.get("tools") or [])

    @property
    def tool_names(self) -> list[str]:
        return [tool["function"]["name"] for tool in self.tools]

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def system_text(self) -> str:
        """The system (or developer) messages' text, joined."""
        return "\n".join(
            _content_text(m.get("content"))
            for m in self.messages
            if m.get("role") in {"system", "developer"}
        )


class FakeOpenAI:
    """The server; use as a context manager, point clients at :attr:`url`."""

    def __init__(
        self,
        respond: Respond = echo,
        *,
        api_key: str | None = None,
        models: tuple[str, ...] = ("fake",),
    ) -> None:
        self.respond = respond
        self.api_key = api_key
        self.models = models
        self.requests: list[RecordedRequest] = []
        self._failures: list[int] = []
        self._script_errors: list[Exception] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL clients take (``…/v1``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` chat requests with ``status`` (e.g. 500 or 429)."""
        with self._lock:
            self._failures.extend([status] * count)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        if exc is None and self._script_errors:
            raise self._script_errors[0]

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    # Called from the handler threads.

    def _next_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its kept-alive connection is not an error worth a traceback.
        if not isinstance(sys.exception(), ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    # Every answer closes its connection: no idle kept-alive socket outlives a test's event loop
    # in some client's pool, where it would end as a ResourceWarning in a later test.
    protocol_version = "HTTP/1.1"
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log on stderr."""

    def do_GET(self) -> None:
        if not self._authorized():
            return
        if self.path.rstrip("/") == "/v1/models":
            models = [
                {"id": name, "object": "model", "created": 0, "owned_by": "fake"}
                for name in self.server_fake.models
            ]
            self._send_json(200, {"object": "list", "data": models})
        else:
            self._send_error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(404, f"no route {self.path}", "not_found")
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_error(400, "the body is not JSON", "invalid_request_error")
            return
        fake = self.server_fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake._record(RecordedRequest(headers=headers, body=body))
        if (status := fake._next_failure()) is not None:
            kind = "rate_limit_exceeded" if status == 429 else "server_error"
            self._send_error(status, f"injected failure {status}", kind)
            return
        try:
            reply = fake.respond(body)
        except Exception as err:  # re-raised by the fake's __exit__, so the test fails on it
            fake._script_errors.append(err)
            self._send_error(500, f"the fake's script raised {err!r}", "server_error")
            return
        if isinstance(reply, str):
            reply = Reply.say(reply)
        calls = tuple(
            call if call.id else ToolCall(call.name, call.arguments, f"call_{fake._next_id()}")
            for call in reply.tool_calls
        )
        reply = Reply(reply.text, calls)
        completion_id = f"chatcmpl-{fake._next_id()}"
        model = str(body.get("model", "fake"))
        usage = _usage(body, reply)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _chunks(completion_id, model, reply, usage if include_usage else None)
            self._send_stream(chunks)
        else:
            self._send_json(200, _completion(completion_id, model, reply, usage))

    def _authorized(self) -> bool:
        key = self.server_fake.api_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._send_error(401, "Incorrect API key provided.", "invalid_api_key")
        return False

    def _send_json(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, kind: str) -> None:
        # Clients retry 429 and 5xx; a short retry-after keeps those retries fast in tests.
        headers = {"retry-after-ms": "10"} if status == 429 or status >= 500 else {}
        payload = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        self._send_json(status, payload, headers)

    def _send_stream(self, chunks: Iterator[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _usage(body: Mapping[str, Any], reply: Reply) -> dict[str, int]:
    """Token counts that are stable and roughly proportional (words, not real tokens)."""
    prompt = sum(len(_content_text(m.get("content")).split()) for m in body.get("messages", []))
    completion = len(reply.text.split()) + sum(
        1 + len(json.dumps(call.arguments).split()) for call in reply.tool_calls
    )
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _wire_tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
        }
        for call in reply.tool_calls
    ]


def _completion(
    completion_id: str, model: str, reply: Reply, usage: dict[str, int]
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = _wire_tool_calls(reply)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": usage,
    }


def _chunks(
    completion_id: str, model: str, reply: Reply, usage: dict[str, int] | None
) -> Iterator[dict[str, Any]]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    for start in range(0, len(reply.text), _STREAM_PIECE):
        yield chunk({"content": reply.text[start : start + _STREAM_PIECE]})
    for index, call in enumerate(reply.tool_calls):
        head = {"index": index, "id": call.id, "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
        # The arguments arrive in two pieces, as real servers split them.
        arguments = json.dumps(call.arguments)
        middle = len(arguments) // 2
        for piece in (arguments[:middle], arguments[middle:]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if usage is not None:
        yield {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage,
        }
