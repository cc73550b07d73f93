"""The fake controller enforces what a UniFi console does, and its event websocket works with
aiounifi's own listener: what Angie's end-to-end tests rely on when they reuse it."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiounifi.controller import Controller
from aiounifi.interfaces.api_handlers import ItemEvent
from aiounifi.models.configuration import Configuration
from angie_mcp_unifi.testing import FakeUnifiController


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the fake's threads have no asyncio.Event
            await asyncio.sleep(0.01)


def _trusting(fake: FakeUnifiController, folder: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(fake.write_ca(folder / "ca.pem")))


async def test_a_change_without_the_csrf_token_is_refused(
    fake_unifi: FakeUnifiController, tmp_path: Path
) -> None:
    context = _trusting(fake_unifi, tmp_path)
    url = f"{fake_unifi.url}/proxy/network/api/s/default/cmd/stamgr"
    body = {"cmd": "block-sta", "mac": "a4:83:e7:11:22:01"}
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.post(f"{fake_unifi.url}/api/auth/login", ssl=context, json={
            "username": fake_unifi.username, "password": fake_unifi.password,
        }) as login:  # fmt: skip
            csrf = login.headers["X-CSRF-Token"]
        async with session.post(url, json=body, ssl=context) as refused:
            assert refused.status == 403
        async with session.post(url, json=body, ssl=context, headers={"X-CSRF-Token": csrf}) as ok:
            assert ok.status == 200
        session.cookie_jar.clear()
        async with session.get(f"{url.rsplit('/', 2)[0]}/stat/sta", ssl=context) as anonymous:
            assert anonymous.status == 401
    assert fake_unifi.commands == [body]


async def test_pushed_events_reach_aiounifis_websocket_until_the_session_ends(
    fake_unifi: FakeUnifiController, tmp_path: Path
) -> None:
    context = _trusting(fake_unifi, tmp_path)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        controller = Controller(
            Configuration(
                session,
                "127.0.0.1",
                username=fake_unifi.username,
                password=fake_unifi.password,
                port=fake_unifi.port,
                ssl_context=context,
            )
        )
        await controller.login()
        seen: list[tuple[ItemEvent, str]] = []
        controller.clients.subscribe(lambda event, mac: seen.append((event, mac)))
        listening = asyncio.create_task(controller.start_websocket())
        await _until(lambda: fake_unifi.events.open == 1)

        newcomer = {"mac": "11:22:33:44:55:66", "hostname": "visitor", "ip": "192.168.2.30"}
        fake_unifi.push("sta:sync", [newcomer])
        await _until(lambda: bool(seen))
        fake_unifi.expire_sessions()
        await asyncio.wait_for(listening, 5)

    assert seen == [(ItemEvent.ADDED, "11:22:33:44:55:66")]
    # The fake counts the stream closed once its handler has finished, a moment after the
    # client saw the end.
    await _until(lambda: fake_unifi.events.open == 0)


async def test_the_websocket_needs_a_session(
    fake_unifi: FakeUnifiController, tmp_path: Path
) -> None:
    context = _trusting(fake_unifi, tmp_path)
    url = f"wss://127.0.0.1:{fake_unifi.port}/proxy/network/wss/s/default/events"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(url, ssl=context)
    assert err.value.status == 401
