"""The kit's HTTP client against a real HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from angie_mcp_core.errors import RateLimitedError, UpstreamError, UpstreamTimeoutError
from angie_mcp_core.http import create_http_client, request


class Upstream:
    """Answers from a script of (status, headers, body); records what it received."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.seen: list[tuple[str, str, str]] = []
        self.delay = 0.0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                upstream.seen.append((self.command, self.path, self.headers.get("User-Agent", "")))
                if upstream.delay:
                    threading.Event().wait(upstream.delay)
                status, headers, body = (
                    upstream.script.pop(0) if upstream.script else (200, {}, b"{}")
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


def _client(url: str, timeout: float = 5.0) -> httpx.AsyncClient:
    return create_http_client("sample", base_url=url, timeout=timeout, backoff=0.01)


async def test_get_is_retried_after_a_503(upstream: Upstream) -> None:
    upstream.script = [(503, {}, b"busy"), (200, {}, b'{"ok": true}')]
    async with _client(upstream.url) as client:
        response = await request(client, "Sample", "GET", "/thing")
    assert response.json() == {"ok": True}
    assert len(upstream.seen) == 2


async def test_post_is_never_sent_twice(upstream: Upstream) -> None:
    upstream.script = [(503, {}, b"busy"), (200, {}, b"{}")]
    async with _client(upstream.url) as client:
        with pytest.raises(UpstreamError, match="HTTP 503"):
            await request(client, "Sample", "POST", "/mail", json={"to": "sam"})
    assert len(upstream.seen) == 1


async def test_retries_stop_and_the_last_answer_is_reported(upstream: Upstream) -> None:
    upstream.script = [(502, {}, b"bad gateway")] * 3
    async with _client(upstream.url) as client:
        with pytest.raises(UpstreamError, match="HTTP 502"):
            await request(client, "Sample", "GET", "/thing")
    assert len(upstream.seen) == 3


async def test_rate_limit_carries_retry_after(upstream: Upstream) -> None:
    upstream.script = [(429, {"Retry-After": "7"}, b"slow down")]
    async with _client(upstream.url) as client:
        with pytest.raises(RateLimitedError) as caught:
            await request(client, "Sample", "GET", "/thing")
    assert caught.value.retry_after == 7


async def test_user_agent_names_the_server(upstream: Upstream) -> None:
    async with _client(upstream.url) as client:
        await request(client, "Sample", "GET", "/thing")
    assert upstream.seen[0][2].startswith("angie-mcp-sample/")


async def test_slow_upstream_is_a_timeout_error(upstream: Upstream) -> None:
    upstream.delay = 1.0
    async with _client(upstream.url, timeout=0.2) as client:
        with pytest.raises(UpstreamTimeoutError, match=r"within 0\.2 seconds"):
            await request(client, "Sample", "POST", "/thing")


async def test_refused_connection_is_an_upstream_error(upstream: Upstream) -> None:
    url = upstream.url
    upstream.close()
    async with _client(url) as client:
        with pytest.raises(UpstreamError, match="cannot connect"):
            await request(client, "Sample", "GET", "/thing")
