"""A fake vendor service on 127.0.0.1 that a server's real SDK talks to in tests.

A fake subclasses :class:`FakeService` and answers one :class:`Request` at a time in
:meth:`FakeService.answer`, under :attr:`FakeService.lock`; the base class owns the plumbing
every fake needs: a free port, a log of requests, injected failures, a delay and stopping.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ("FakeService", "Reply", "Request")


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the fake received it."""

    method: str
    #: The path with its query, as sent (``/api/states?x=1``).
    target: str
    #: Header names in lower case.
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)

    def json(self) -> Any:
        """The body as JSON (``None`` when empty); raises ValueError when it is not JSON."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer; :meth:`json` builds the usual one."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        content_type: str = "application/json",
    ) -> Reply:
        return cls(
            status, json.dumps(payload).encode(), {"Content-Type": content_type, **(headers or {})}
        )


@dataclass(slots=True)
class _Failure:
    reply: Reply
    times: int
    path: str


class FakeService:
    """The plumbing of a fake REST API; subclasses implement :meth:`answer`.

    ``with Fake() as fake:`` starts and stops it (or ``start()``/``stop()``); ``url`` is where
    it listens. ``log`` holds every request in arrival order. ``inject(reply, times, path)``
    answers the next ``times`` requests whose path starts with ``path`` with ``reply``;
    ``delay`` holds every answer that many seconds until ``release()`` lets them all go;
    ``answered`` counts the answers given (a client that gave up early saw none).
    """

    #: HTTP/1.1 with keep-alive, as SDKs built on a connection pool expect (GitHub's).
    keep_alive: ClassVar[bool] = False

    def __init__(self) -> None:
        self.log: list[Request] = []
        self.answered = 0
        self.lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._delay = 0.0
        self._released = threading.Event()
        self._connections: set[socket.socket] = set()
        protocol = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"
        handler = type("Handler", (_Handler,), {"fake": self, "protocol_version": protocol})
        self._server = _Server(("127.0.0.1", 0), handler)
        # A short poll interval keeps shutdown() (each test's teardown) from waiting 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._stopped = False

    # -- what a fake implements --------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        """The vendor's answer to ``request``; called with :attr:`lock` held."""
        raise NotImplementedError

    # -- control -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:port``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port``, without a trailing slash."""
        return f"http://{self.host}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.release()
        started = self._thread.ident is not None
        if started:  # shutdown() would wait for a loop that never ran
            self._server.shutdown()
        self._server.server_close()
        # Keep-alive connections would otherwise keep being served after the server stops.
        with self.lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if started:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def delay(self) -> float:
        """Seconds every answer is held (until :meth:`release`)."""
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._delay = seconds
        self._released.clear()

    def release(self) -> None:
        """Let every held answer go now, and every later one."""
        self._released.set()

    def inject(self, reply: Reply, *, times: int = 1, path: str = "") -> None:
        """Answer the next ``times`` requests whose path starts with ``path`` with ``reply``."""
        with self.lock:
            self._failures.append(_Failure(reply, times, path))

    # -- plumbing ----------------------------------------------------------------------------

    def _handle(self, request: Request) -> Reply:
        with self.lock:
            self.log.append(request)
        if self._delay:
            self._released.wait(self._delay)
        with self.lock:
            reply = self._injected(request.path) or self.answer(request)
            self.answered += 1
            return reply

    def _injected(self, path: str) -> Reply | None:
        for failure in self._failures:
            if path.startswith(failure.path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure.reply
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the timeout tests) closes its end; that is expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: ClassVar[FakeService]

    def setup(self) -> None:
        super().setup()
        if self.fake.keep_alive:
            # Headers and body go out as two writes; without this, Nagle adds ~40 ms an answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.fake.lock:
                self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake.lock:
            self.fake._connections.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.fake._handle(Request(self.command, self.path, headers, body))
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except ConnectionError:  # the client gave up waiting (the timeout tests)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows failures, not every request."""
