"""The fake controller's event websocket (``/wss/s/<site>/events``): a minimal RFC 6455 server.

It needs a logged-in session as the real one does, sends what the fake pushes as text frames,
answers pings and drops every stream when sessions end or the console restarts. A stream ends
with the whole closing handshake (close frames both ways, TLS close_notify, then the client's
FIN), so once :attr:`EventStreams.open` has dropped the client's socket is closed too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import queue
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from angie_mcp_unifi.testing import FakeUnifiController

__all__ = ("EventStreams",)

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
_CLOSED = object()
#: How long a closing stream waits for the client's part of the handshake.
_LINGER = 5.0


def _frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = bytes([0x80 | opcode, size])
    elif size < 1 << 16:
        header = bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 127]) + size.to_bytes(8, "big")
    return header + payload


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection")
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    first, second = _exactly(sock, 2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(_exactly(sock, 2), "big")
    elif size == 127:
        size = int.from_bytes(_exactly(sock, 8), "big")
    mask = _exactly(sock, 4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(sock, size)))
    return first & 0x0F, payload


@dataclass(slots=True)
class _Stream:
    outbox: queue.Queue[object] = field(default_factory=queue.Queue)


class EventStreams:
    """The open event streams of one fake; installs itself in the fake's request handler."""

    def __init__(self, fake: FakeUnifiController) -> None:
        self._fake = fake
        self._lock = threading.Lock()
        self._streams: list[_Stream] = []
        #: How many streams were ever opened (a client that reconnects opens another).
        self.opened = 0
        base: Any = fake._server.RequestHandlerClass
        streams = self

        class Handler(base):  # type: ignore[misc]
            def do_GET(self) -> None:
                if self.headers.get("Upgrade", "").lower() == "websocket":
                    streams._serve(self)
                else:
                    super().do_GET()

        fake._server.RequestHandlerClass = Handler

    @property
    def open(self) -> int:
        with self._lock:
            return len(self._streams)

    def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        with self._lock:
            for stream in self._streams:
                stream.outbox.put(text)

    def close_all(self) -> None:
        with self._lock:
            for stream in self._streams:
                stream.outbox.put(_CLOSED)

    def _refuse(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        handler.close_connection = True

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        fake = self._fake
        prefix = "/proxy/network" if fake.unifi_os else ""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with fake.lock:
            if fake.down:
                return self._refuse(handler, 503)
            if handler.path.split("?")[0] != f"{prefix}/wss/s/{fake.site}/events":
                return self._refuse(handler, 404)
            if fake.session_valid(headers) is None:
                return self._refuse(handler, 401)
        key = headers.get("sec-websocket-key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()  # noqa: S324
        handler.send_response(101)
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        stream = _Stream()
        with self._lock:
            self._streams.append(stream)
            self.opened += 1
        try:
            self._pump(handler.connection, stream)
            self._linger(handler.connection)
        finally:
            with self._lock:
                self._streams.remove(stream)
        return None

    def _pump(self, sock: socket.socket, stream: _Stream) -> None:
        # One thread owns the TLS socket: an SSL object must not be read and written at once.
        with contextlib.suppress(OSError, ValueError):
            while not self._fake._stopped:
                try:
                    item = stream.outbox.get(timeout=0.05)
                except queue.Empty:
                    item = None
                if item is _CLOSED:
                    sock.sendall(_frame(_CLOSE, (1012).to_bytes(2, "big")))
                    self._await_close(sock)
                    return
                if isinstance(item, str):
                    sock.sendall(_frame(_TEXT, item.encode()))
                pending = getattr(sock, "pending", lambda: 0)()
                if pending or select.select([sock], [], [], 0)[0]:
                    opcode, payload = _read_frame(sock)
                    if opcode == _PING:
                        sock.sendall(_frame(_PONG, payload))
                    elif opcode == _CLOSE:
                        sock.sendall(_frame(_CLOSE, payload[:2]))
                        return

    def _await_close(self, sock: socket.socket) -> None:
        """After the fake's close frame, read until the client's (RFC 6455 §5.5.1)."""
        sock.settimeout(_LINGER)
        while _read_frame(sock)[0] != _CLOSE:
            pass

    def _linger(self, sock: socket.socket) -> None:
        """End TLS with close_notify and wait for the client's FIN, so the client has closed."""
        with contextlib.suppress(OSError, ValueError):
            sock.settimeout(_LINGER)
            if isinstance(sock, ssl.SSLSocket):
                sock = sock.unwrap()
            while sock.recv(4096):
                pass
