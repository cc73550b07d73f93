"""A kit-built server on streamable HTTP, as a real subprocess: its Host names, its Origins and
a 401 that says a static bearer token is expected."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from starlette.types import Receive, Scope, Send

from angie_mcp_core.edge import LOOPBACK_HOSTS, HttpEdge, canonical_origin
from angie_mcp_core.testing import serve_http

SAMPLE = Path(__file__).with_name("sample_server.py")
TOKEN = "sample-bearer-token-0123456789"
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
WITH_TOKEN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ANGIE_SAMPLE_TOKEN": TOKEN,
        "ANGIE_SAMPLE_LOG_LEVEL": "WARNING",
        "ANGIE_SAMPLE_ALLOWED_HOSTS": "sample.lan, Sample.Example",
        "ANGIE_SAMPLE_ALLOWED_ORIGINS": "https://app.example",
    }
    with serve_http([sys.executable, str(SAMPLE)], env=env) as url:
        yield url


async def _brightness(url: str, **headers: str) -> object:
    """Calls a tool with the official SDK client, sending ``headers`` on every request."""
    async with (
        httpx2.AsyncClient(headers={**WITH_TOKEN, **headers}) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("brightness", {"room": "kitchen"})
    return result.structured_content


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


async def test_a_request_without_an_origin_is_served(http_server: str) -> None:
    assert await _brightness(http_server) == {"result": 40}


async def test_a_request_from_a_configured_origin_is_served(http_server: str) -> None:
    assert await _brightness(http_server, Origin="https://app.example") == {"result": 40}


async def test_a_request_from_a_loopback_page_is_served(http_server: str) -> None:
    assert await _brightness(http_server, Origin="http://localhost:5173") == {"result": 40}


async def test_a_request_by_a_configured_host_name_is_served(http_server: str) -> None:
    host = f"sample.example:{_port(http_server)}"
    assert await _brightness(http_server, Host=host) == {"result": 40}


def test_a_request_from_a_foreign_origin_is_403_saying_which_setting(http_server: str) -> None:
    headers = {**WITH_TOKEN, "Origin": "http://evil.example"}
    response = httpx.post(http_server, json=LIST_TOOLS, headers=headers)
    assert response.status_code == 403
    assert response.text.strip() == (
        "requests from the web page at http://evil.example are refused: add the origin to "
        "ANGIE_SAMPLE_ALLOWED_ORIGINS (comma separated) if it may use this server"
    )


def test_a_configured_origins_host_over_another_scheme_is_403(http_server: str) -> None:
    headers = {**WITH_TOKEN, "Origin": "http://app.example"}
    assert httpx.post(http_server, json=LIST_TOOLS, headers=headers).status_code == 403


def test_the_null_origin_of_a_sandboxed_page_is_403(http_server: str) -> None:
    headers = {**WITH_TOKEN, "Origin": "null"}
    assert httpx.post(http_server, json=LIST_TOOLS, headers=headers).status_code == 403


def test_a_foreign_host_is_421_saying_which_setting(http_server: str) -> None:
    headers = {**WITH_TOKEN, "Host": f"rebound.example:{_port(http_server)}"}
    response = httpx.post(http_server, json=LIST_TOOLS, headers=headers)
    assert response.status_code == 421
    assert response.text.strip() == (
        "Host rebound.example is not one of this server's: add it to "
        "ANGIE_SAMPLE_ALLOWED_HOSTS (comma separated) if clients reach the server by it"
    )


def test_a_401_says_a_static_bearer_token_is_expected(http_server: str) -> None:
    response = httpx.post(http_server, json=LIST_TOOLS)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="angie-mcp-sample"'
    assert response.text.strip() == (
        'no bearer token: this server expects a static bearer token, sent as "Authorization: '
        'Bearer <token>" (the value of ANGIE_SAMPLE_TOKEN); it does not use OAuth'
    )


def test_a_wrong_token_is_401_invalid_token_without_oauth_hints(http_server: str) -> None:
    headers = {"Authorization": "Bearer not-the-token-at-all"}
    response = httpx.post(http_server, json=LIST_TOOLS, headers=headers)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == 'Bearer realm="angie-mcp-sample", error="invalid_token"'
    assert "ANGIE_SAMPLE_TOKEN" in response.text
    assert "re-register" not in response.text


@pytest.mark.parametrize(
    "path",
    ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"],
)
def test_no_oauth_metadata_is_served(http_server: str, path: str) -> None:
    url = http_server.removesuffix("/mcp") + path
    assert httpx.get(url).status_code == 404


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the edge; these tests only read what the edge allows."""


def _edge(bind_host: str) -> HttpEdge:
    return HttpEdge(
        _nothing,
        realm="angie-mcp-sample",
        token=TOKEN,
        token_setting="ANGIE_SAMPLE_TOKEN",
        hosts_setting="ANGIE_SAMPLE_ALLOWED_HOSTS",
        origins_setting="ANGIE_SAMPLE_ALLOWED_ORIGINS",
        path="/mcp",
        bind_host=bind_host,
    )


def test_a_wildcard_bind_adds_no_host_name() -> None:
    assert _edge("0.0.0.0").hosts == LOOPBACK_HOSTS  # noqa: S104 - a name, not a bind


def test_a_named_bind_host_is_allowed_in_its_usual_form() -> None:
    assert _edge("[FE80::0001]").hosts == LOOPBACK_HOSTS | {"fe80::1"}


@pytest.mark.parametrize(
    ("origin", "canonical"),
    [
        ("HTTPS://App.Example:443/", "https://app.example"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("null", None),
        ("https://app.example/path", None),
        ("chrome-extension://abc", None),
    ],
)
def test_origins_are_compared_in_one_form(origin: str, canonical: str | None) -> None:
    assert canonical_origin(origin) == canonical
