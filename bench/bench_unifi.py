"""UniFi tool calls through Angie's UniFi server against aiounifi called directly, on the same
fake UniFi Network controller: the server's own cost (MCP, validation, conversion to its models).

The fake controller on 127.0.0.1 (angie_mcp_unifi.testing) speaks HTTPS with its own
certificate authority, logs in with a session cookie and a CSRF token and serves the REST
endpoints aiounifi calls. Each round makes CALLS calls of each read: through the server's tools
with the MCP client (in memory, logged in once), and with one aiounifi ``Controller`` logged in
once, sending the same requests. Rounds alternate; the best round of each side is reported.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiounifi.controller import Controller
from aiounifi.models.api import ApiRequest
from aiounifi.models.client import ClientListRequest
from aiounifi.models.configuration import Configuration
from aiounifi.models.device import DeviceListRequest
from aiounifi.models.wlan import WlanListRequest
from angie_mcp_unifi.server import build
from angie_mcp_unifi.settings import UnifiSettings
from angie_mcp_unifi.testing import FakeUnifiController
from fastmcp import Client
from pydantic import SecretStr

CALLS = int(os.environ.get("ANGIE_BENCH_UNIFI_CALLS", "300"))
ROUNDS = int(os.environ.get("ANGIE_BENCH_SAMPLES", "3"))
# tool → the request aiounifi sends for it
READS: dict[str, Callable[[], ApiRequest]] = {
    "list_clients": ClientListRequest.create,
    "list_devices": DeviceListRequest.create,
    "list_wlans": WlanListRequest.create,
}

Round = dict[str, float]


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        await call()
    return time.perf_counter() - start


async def through_angie(settings: UnifiSettings) -> Round:
    async with Client(build(settings)) as client:
        await client.call_tool("list_clients", {})  # logs in
        found: Round = {}
        for tool in READS:

            async def call(tool: str = tool) -> object:
                result = await client.call_tool(tool, {})
                assert not result.is_error
                return result

            found[tool] = await _timed(call)
        return found


async def direct(settings: UnifiSettings) -> Round:
    assert settings.controller_host is not None
    assert settings.username is not None
    assert settings.password is not None
    context = ssl.create_default_context(cafile=str(settings.ca_file))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        controller = Controller(
            Configuration(
                session,
                settings.controller_host,
                username=settings.username,
                password=settings.password.get_secret_value(),
                port=settings.controller_port,
                site=settings.site,
                ssl_context=context,
            )
        )
        await controller.login()
        found: Round = {}
        for tool, request in READS.items():

            async def call(request: Callable[[], ApiRequest] = request) -> object:
                answer = await controller.request(request())
                assert answer.get("data") is not None
                return answer

            found[tool] = await _timed(call)
        return found


async def main() -> int:
    with tempfile.TemporaryDirectory() as state, FakeUnifiController() as fake:
        settings = UnifiSettings(
            _env_file=None,
            controller_host="127.0.0.1",
            controller_port=fake.port,
            username=fake.username,
            password=SecretStr(fake.password),
            ca_file=fake.write_ca(Path(state) / "ca.pem"),
            timeout=30,
        )
        angie: list[Round] = []
        bare: list[Round] = []
        for _ in range(ROUNDS):
            angie.append(await through_angie(settings))
            bare.append(await direct(settings))
    print(f"{CALLS} calls of each read against the fake UniFi controller; best of {ROUNDS} rounds")
    for tool in READS:
        mine = min(r[tool] for r in angie)
        base = min(r[tool] for r in bare)
        print(
            f"  {tool:<13} angie {mine / CALLS * 1000:6.2f} ms/call   "
            f"aiounifi {base / CALLS * 1000:6.2f} ms/call   ratio {mine / base:4.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
