"""A sign-in that ends ends everywhere: an open chat socket closes when its person is
deactivated, logs out or changes the password; a password change revokes personal API tokens
(unless configured otherwise); a token cannot make another; logins are limited per account
whatever the address, and X-Forwarded-For is believed only from configured proxies."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from api_support import (
    PASSWORD,
    Account,
    ApiHarness,
    api_harness,
    count_rows,
    make_api_angie,
    quick_auth,
)
from fakes.brain import Brain
from test_api_e2e import Served, closed_with
from websockets.asyncio.client import ClientConnection, connect

from angie.accounts.auth import AuthService
from angie.api.app import create_app
from angie.api.routes import chat as chat_routes
from angie.db.models import Event
from angie.settings import AngieSettings, SettingsError, load_settings
from angie_mcp_core.testing import free_port

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def served(sqlite_url: str, data_dir: Path) -> AsyncIterator[Served]:
    port = free_port()
    angie = make_api_angie(sqlite_url, data_dir, Brain(), api=True, port=port)
    async with api_harness(angie) as harness:
        yield Served(harness, f"ws://127.0.0.1:{port}/api/chat/ws")


async def _signed_in(ws: ClientConnection, token: str) -> None:
    """Sign the socket in and wait until it answers a frame (then it is signed in)."""
    await ws.send(json.dumps({"type": "auth", "token": token}))
    await ws.send("ping")
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "error"


async def _events(api: ApiHarness) -> int:
    return await count_rows(api, Event)


async def _deactivate(api: ApiHarness, admin: Account, who: Account) -> None:
    changed = await api.client.patch(
        f"/api/users/{who.id}", json={"is_active": False}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text


async def _change_password(api: ApiHarness, who: Account) -> None:
    changed = await api.client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=who.headers,
    )
    assert changed.status_code == 204, changed.text


async def _api_token(api: ApiHarness, who: Account, headers: dict[str, str] | None = None) -> str:
    made = await api.client.post(
        "/api/me/tokens", json={"name": "cli"}, headers=headers or who.headers
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the chat socket -----------------------------------------------------------------------------


async def test_a_deactivated_persons_socket_takes_no_more_messages(served: Served) -> None:
    admin, sam = await served.api.signup("admin"), await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await _signed_in(ws, sam.token)
        await _deactivate(served.api, admin, sam)
        await ws.send(json.dumps({"type": "message", "text": "still me"}))
        code, reason = await closed_with(ws)

    assert code == 4401
    assert "deactivated" in reason
    assert await _events(served.api) == 0


async def test_a_logged_out_socket_takes_no_more_messages(served: Served) -> None:
    sam = await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await _signed_in(ws, sam.token)
        out = await served.api.client.post("/api/auth/logout", headers=sam.headers)
        assert out.status_code == 204, out.text
        await ws.send(json.dumps({"type": "message", "text": "still me"}))
        code, reason = await closed_with(ws)

    assert code == 4401
    assert "session has ended" in reason
    assert await _events(served.api) == 0


async def test_a_password_change_closes_the_socket_of_every_login(served: Served) -> None:
    sam = await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await _signed_in(ws, sam.token)
        await _change_password(served.api, sam)
        await ws.send(json.dumps({"type": "message", "text": "still me"}))
        code, _ = await closed_with(ws)

    assert code == 4401
    assert await _events(served.api) == 0


async def test_a_password_change_closes_a_socket_signed_in_with_an_api_token(
    served: Served,
) -> None:
    sam = await served.api.signup("sam")
    token = await _api_token(served.api, sam)
    async with connect(served.ws_url) as ws:
        await _signed_in(ws, token)
        await _change_password(served.api, sam)
        await ws.send(json.dumps({"type": "message", "text": "still me"}))
        code, reason = await closed_with(ws)

    assert code == 4401
    assert "revoked" in reason


async def test_an_idle_socket_closes_once_its_person_is_deactivated(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_routes, "SIGN_IN_CHECK_SECONDS", 0.2)
    admin, sam = await served.api.signup("admin"), await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await _signed_in(ws, sam.token)
        await _deactivate(served.api, admin, sam)
        code, reason = await closed_with(ws)  # sending nothing

    assert code == 4401
    assert "deactivated" in reason


async def test_a_socket_outlives_its_access_tokens_expiry_while_the_login_holds(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_routes, "SIGN_IN_CHECK_SECONDS", 0.2)
    sam = await served.api.signup("sam")
    # Past its expiry by 8 s (in whole seconds, so 8 to 9): within the 10 s leeway for 1 to 2
    # more seconds.
    tokens = served.api.angie.services.auth.tokens
    monkeypatch.setattr(tokens, "access_ttl", timedelta(seconds=-8))
    login = await served.api.client.post(
        "/api/auth/login", json={"email": sam.email, "password": PASSWORD}
    )
    access = login.json()["access_token"]
    async with connect(served.ws_url) as ws:
        await _signed_in(ws, access)
        await asyncio.sleep(2.5)
        refused = await served.api.client.get("/api/me", headers=_bearer(access))
        assert refused.status_code == 401  # the token has expired; the login holds
        await ws.send(json.dumps({"type": "message", "text": "still here"}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))

    assert frame["type"] == "task"


# -- personal API tokens -------------------------------------------------------------------------


async def test_a_password_change_revokes_personal_api_tokens(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    token = await _api_token(api, sam)
    await _change_password(api, sam)
    refused = await api.client.get("/api/me", headers=_bearer(token))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


async def test_tokens_can_be_kept_across_a_password_change_when_configured(
    sqlite_url: str, data_dir: Path
) -> None:
    angie = make_api_angie(sqlite_url, data_dir, Brain(), revoke_tokens_on_password_change=False)
    async with api_harness(angie) as api:
        sam = await api.signup("sam")
        token = await _api_token(api, sam)
        await _change_password(api, sam)
        assert (await api.client.get("/api/me", headers=_bearer(token))).status_code == 200
        assert (await api.client.get("/api/me", headers=sam.headers)).status_code == 401


async def test_a_personal_api_token_cannot_make_tokens(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    token = await _api_token(api, sam)
    refused = await api.client.post("/api/me/tokens", json={"name": "more"}, headers=_bearer(token))
    assert refused.status_code == 403, refused.text
    assert "log in with your password" in refused.json()["error"]["message"]
    listed = await api.client.get("/api/me/tokens", headers=_bearer(token))
    assert listed.json()["total"] == 1


def test_revoking_tokens_on_a_password_change_is_the_default() -> None:
    assert AngieSettings(_env_file=None).revoke_tokens_on_password_change is True


# -- login limits and forwarded addresses --------------------------------------------------------


def _strict(api: ApiHarness, **limits: str) -> AuthService:
    cheap = quick_auth(api.angie.settings).passwords
    generous = {"login_limit": "1000/minute", "login_ip_limit": "1000/minute"}
    return AuthService(api.angie.settings.secret, passwords=cheap, **{**generous, **limits})


async def test_wrong_passwords_from_many_addresses_are_limited_per_account(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")
    app = create_app(
        dataclasses.replace(api.angie.services, auth_service=_strict(api, login_limit="3/minute"))
    )
    answers = []
    for n in range(4):
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{n + 1}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://angie.test") as client:
            answers.append(
                await client.post("/api/auth/login", json={"email": sam.email, "password": "no"})
            )

    assert [a.status_code for a in answers] == [401, 401, 401, 429]


async def _wrong_logins(port: int, forwarded: bool) -> list[int]:
    """Wrong passwords for four accounts, each from a new X-Forwarded-For address."""
    codes = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for n in range(4):
            headers = {"X-Forwarded-For": f"198.51.100.{n + 1}"} if forwarded else {}
            email = f"nobody-{uuid.uuid4().hex[:6]}@home.test"
            answer = await client.post(
                "/api/auth/login", json={"email": email, "password": "no"}, headers=headers
            )
            codes.append(answer.status_code)
    return codes


@pytest.mark.parametrize(
    ("proxies", "codes"),
    [([], [401, 401, 401, 429]), (["127.0.0.1"], [401, 401, 401, 401])],
    ids=["no-proxy-trusted", "loopback-proxy-trusted"],
)
async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    sqlite_url: str, data_dir: Path, proxies: list[str], codes: list[int]
) -> None:
    port = free_port()
    angie = make_api_angie(
        sqlite_url, data_dir, Brain(), api=True, port=port, trusted_proxies=proxies
    )
    cheap = quick_auth(angie.settings).passwords
    angie.services.auth_service = AuthService(
        angie.settings.secret, passwords=cheap, login_limit="1000/minute", login_ip_limit="3/minute"
    )
    await angie.start()
    try:
        assert await _wrong_logins(port, forwarded=True) == codes
    finally:
        await angie.stop(grace=5)


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert load_settings(None).trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]
    monkeypatch.setenv("ANGIE_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(SettingsError, match=r"ANGIE_TRUSTED_PROXIES: .* is not an IP address"):
        load_settings(None)
    monkeypatch.delenv("ANGIE_TRUSTED_PROXIES")
    assert load_settings(None).trusted_proxies == []
