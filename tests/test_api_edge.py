"""The API's edge: only Angie's own Host names and Origins (DNS rebinding, cross-site posts),
bounded request headers and safe response headers, in memory and on a real server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from api_support import PASSWORD, TEST_HOST, ApiHarness, count_rows, error_message, make_api_angie
from fakes.brain import Brain
from websockets.asyncio.client import connect
from websockets.typing import Origin

from angie.db.models import User
from angie.settings import AngieSettings, SettingsError, load_settings
from angie_mcp_core.testing import free_port

REGISTER = "/api/auth/register"
EVIL = {"Host": "evil.example", "Origin": "http://evil.example"}


def _account(api: ApiHarness) -> dict[str, str | None]:
    """A first account with everything it needs (the setup code too)."""
    email = f"sam-{uuid.uuid4().hex[:6]}@home.test"
    return {"email": email, "password": PASSWORD, "setup_code": api.angie.services.setup.code}


@pytest.fixture
async def served(sqlite_url: str, data_dir: Path) -> AsyncIterator[int]:
    """Angie's API on a real loopback port (uvicorn as `angie serve` runs it)."""
    port = free_port()
    angie = make_api_angie(sqlite_url, data_dir, Brain(), api=True, port=port)
    await angie.start()
    try:
        yield port
    finally:
        await angie.stop(grace=5)


# -- Host ---------------------------------------------------------------------------------------


async def test_a_rebound_host_name_cannot_register_the_first_account(api: ApiHarness) -> None:
    answer = await api.client.post(REGISTER, json=_account(api), headers=EVIL)

    message = error_message(answer, 421)
    assert message.startswith("Host evil.example is not one of Angie's: set ANGIE_ALLOWED_HOSTS")
    assert answer.json()["error"]["code"] == "unknown_host"
    assert await count_rows(api, User) == 0


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "LOCALHOST:9", "[::1]:8000"])
async def test_loopback_names_are_always_served(api: ApiHarness, host: str) -> None:
    answer = await api.client.get("/api/health", headers={"Host": host})
    assert answer.status_code == 200, answer.text


async def test_a_name_in_allowed_hosts_is_served_and_others_are_not(api: ApiHarness) -> None:
    # The harness allows TEST_HOST through ANGIE_ALLOWED_HOSTS; a sibling name is not allowed.
    assert (await api.client.get("/api/health")).status_code == 200
    other = await api.client.get("/api/health", headers={"Host": f"other.{TEST_HOST}"})
    assert error_message(other, 421).startswith(f"Host other.{TEST_HOST} is not one of Angie's")


def test_allowed_hosts_are_read_comma_separated(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_ALLOWED_HOSTS", "angie.example.org, 192.168.1.20 ,")
    settings = load_settings(env_file=None, data_dir=data_dir)
    assert settings.allowed_hosts == ["angie.example.org", "192.168.1.20"]
    monkeypatch.setenv("ANGIE_ALLOWED_HOSTS", "https://angie.example.org/")
    with pytest.raises(SettingsError, match="ANGIE_ALLOWED_HOSTS"):
        load_settings(env_file=None, data_dir=data_dir)


def test_no_allowed_hosts_by_default(data_dir: Path) -> None:
    assert AngieSettings(_env_file=None, data_dir=data_dir).allowed_hosts == []


# -- Origin -------------------------------------------------------------------------------------


async def test_a_foreign_origin_cannot_post_even_with_angies_host(api: ApiHarness) -> None:
    answer = await api.client.post(
        REGISTER, json=_account(api), headers={"Origin": "http://evil.example"}
    )

    message = error_message(answer, 403)
    assert "http://evil.example" in message
    assert "not one of Angie's own origins" in message
    assert await count_rows(api, User) == 0


@pytest.mark.parametrize("origin", ["null", "http://angie.test.evil.example", "file://"])
async def test_odd_origins_are_foreign(api: ApiHarness, origin: str) -> None:
    answer = await api.client.post(REGISTER, json=_account(api), headers={"Origin": origin})
    assert answer.status_code == 403, answer.text


async def test_angies_own_origin_and_no_origin_may_post(api: ApiHarness) -> None:
    own = await api.client.post(
        REGISTER, json=_account(api), headers={"Origin": f"https://{TEST_HOST}:8443"}
    )
    assert own.status_code == 201, own.text
    # No Origin: the CLI, scripts and webhooks from other servers.
    assert (await api.client.post("/api/auth/logout")).status_code == 401


async def test_a_foreign_origin_may_still_read_health(api: ApiHarness) -> None:
    answer = await api.client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 200, answer.text


@pytest.mark.slow
async def test_a_websocket_from_a_foreign_origin_is_refused_before_it_opens(served: int) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(
            f"ws://127.0.0.1:{served}/api/chat/ws", origin=Origin("http://evil.example")
        ) as ws:
            await ws.recv()
    assert refused.value.response.status_code == 403
    assert b"not one of Angie's own origins" in refused.value.response.body

    async with connect(
        f"ws://127.0.0.1:{served}/api/chat/ws", origin=Origin(f"http://127.0.0.1:{served}")
    ) as ws:
        await ws.send('{"type": "auth", "token": "nope"}')
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()


# -- header limits ------------------------------------------------------------------------------


async def test_too_many_headers_are_refused_with_431(api: ApiHarness) -> None:
    headers = {f"x-filler-{i}": "1" for i in range(5000)}
    answer = await api.client.get("/api/health", headers=headers)
    assert "more than 100 headers" in error_message(answer, 431)


async def test_a_huge_header_is_refused_with_431(api: ApiHarness) -> None:
    answer = await api.client.get("/api/health", headers={"x-filler": "a" * 200_000})
    assert "the x-filler header is larger than 8192 bytes" in error_message(answer, 431)


@pytest.mark.slow
async def test_a_huge_header_never_reaches_angie_on_the_wire(served: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served}", timeout=30) as client:
        fine = await client.get("/api/health", headers={"x-filler": "a" * 2_000})
        big = await client.get("/api/health", headers={"x-filler": "a" * 20_000})
        huge = await client.get("/api/health", headers={"x-filler": "a" * 200_000})
    assert fine.status_code == 200, fine.text
    assert "larger than 8192 bytes" in error_message(big, 431)
    assert huge.status_code == 400


# -- response headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/health", {}, 200),
        ("/api/nowhere", {}, 404),
        ("/api/me", {}, 401),
        ("/api/health", {"Host": "evil.example"}, 421),
    ],
)
async def test_every_answer_carries_the_security_headers(
    api: ApiHarness, path: str, headers: dict[str, str], status: int
) -> None:
    answer = await api.client.get(path, headers=headers)

    assert answer.status_code == status, answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-security-policy"] == (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    assert answer.headers["x-request-id"]
