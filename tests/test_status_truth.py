"""What Angie says of her MCP servers: status lists only the servers she can start, tells a server
that runs without its settings ("not configured", naming the settings, never their values) from
a healthy one, and says why one is down; the server list says which servers are installed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import ApiHarness, api_harness, hue_api_harness, json_body, make_api_angie
from cli_support import cli_harness
from fakes.brain import Brain
from sqlalchemy import select, update

from angie.db.models import McpServer, ServerHealth
from angie.mcp.registry import ServerSpec, builtin_specs
from angie.mcp.supervisor import Supervisor

SERVERS = "/api/mcp/servers"
HUE_SETTINGS = ["ANGIE_HUE_BRIDGE_HOST", "ANGIE_HUE_USERNAME"]


async def _status_servers(api: ApiHarness) -> dict[str, dict[str, Any]]:
    person = api.accounts[0] if api.accounts else await api.signup("sam")
    status = json_body(await api.client.get("/api/status", headers=person.headers))
    return {server["name"]: server for server in status["servers"]}


async def test_status_leaves_out_seeded_servers_that_are_not_installed(api: ApiHarness) -> None:
    async with api.angie.services.database.session() as session:
        seeded = set(await session.scalars(select(McpServer.name)))
    assert {"gmail", "gcal", "outlook", "hue"} <= seeded  # rows for the fleet's agents

    assert await _status_servers(api) == {}


async def test_server_list_says_which_servers_are_installed(
    sqlite_url: str, data_dir: Path
) -> None:
    angie = make_api_angie(sqlite_url, data_dir, Brain(), specs=builtin_specs(["hue"]))
    async with api_harness(angie) as api:
        sam = await api.signup("sam")

        listed = json_body(await api.client.get(SERVERS, headers=sam.headers))
        gmail = json_body(await api.client.get(f"{SERVERS}/gmail", headers=sam.headers))

        installed = {s["name"]: s["installed"] for s in listed["items"]}
        assert installed["hue"] is True
        assert installed["gmail"] is installed["gcal"] is installed["outlook"] is False
        assert gmail["installed"] is False
        assert gmail["configured"] is None
        assert set(await _status_servers(api)) == {"hue"}


async def test_status_without_a_supervisor_shows_the_stored_health(
    sqlite_url: str, data_dir: Path
) -> None:
    angie = make_api_angie(sqlite_url, data_dir, Brain(), specs=builtin_specs(["hue"]))
    angie.role = "api"  # no worker here, so no servers run in this process
    async with api_harness(angie) as api:
        async with api.angie.services.database.session() as session:
            await session.execute(
                update(McpServer)
                .where(McpServer.name == "hue")
                .values(health=ServerHealth.UNHEALTHY, last_error="the bridge does not answer")
            )

        servers = await _status_servers(api)

    assert servers == {
        "hue": {
            "name": "hue",
            "enabled": True,
            "health": "unhealthy",
            "configured": None,
            "missing_settings": [],
            "last_error": "the bridge does not answer",
            "idle": False,
        }
    }


@pytest.mark.slow
async def test_an_unconfigured_hue_is_not_configured_rather_than_healthy(
    sqlite_url: str, data_dir: Path
) -> None:
    angie = make_api_angie(sqlite_url, data_dir, Brain(), specs=builtin_specs(["hue"]))
    async with api_harness(angie) as api:
        sam = await api.signup("sam")

        hue = (await _status_servers(api))["hue"]
        listed = json_body(await api.client.get(f"{SERVERS}/hue", headers=sam.headers))

    assert hue["configured"] is False
    assert hue["missing_settings"] == HUE_SETTINGS
    assert (listed["installed"], listed["configured"]) == (True, False)
    assert listed["missing_settings"] == HUE_SETTINGS


@pytest.mark.slow
async def test_a_configured_hue_is_healthy(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    async with hue_api_harness(sqlite_url, data_dir, bridge, Brain()) as api:
        hue = (await _status_servers(api))["hue"]

    assert hue["health"] == "healthy"
    assert hue["configured"] is True
    assert hue["missing_settings"] == []
    assert bridge.username not in str(hue)


def _broken(name: str) -> ServerSpec:
    """A built-in server whose process exits at once with a reason on stderr."""
    script = "import sys; sys.exit('the token file cannot be read')"
    return ServerSpec(
        name=name, transport="stdio", command=(sys.executable, "-c", script), builtin=True
    )


def _server_lines(out: str, names: tuple[str, ...]) -> dict[str, str]:
    """What ``angie status`` says of each server named, by name."""
    found = {}
    for line in out.splitlines():
        name, _, said = line.strip().partition(" ")
        if name in names:
            found[name] = said.strip()
    return found


@pytest.mark.slow
async def test_cli_status_says_not_configured_healthy_and_down(
    sqlite_url: str, data_dir: Path, tmp_path: Path
) -> None:
    specs = {**builtin_specs(["hue", "github"]), "spotify": _broken("spotify")}
    token = "ghp_" + "x" * 36
    environ = {"ANGIE_GITHUB_API_TOKEN": token}
    async with cli_harness(
        sqlite_url, data_dir, tmp_path / "home", Brain(), specs=specs, environ=environ
    ) as cli:
        await cli.signup("sam")

        done = await cli.run("status")

    assert done.code == 0, done.err
    lines = _server_lines(done.out, ("hue", "github", "spotify", "gmail"))
    assert lines["hue"] == "not configured (ANGIE_HUE_BRIDGE_HOST, ANGIE_HUE_USERNAME missing)"
    assert lines["github"] == "healthy"
    assert lines["spotify"] == "down: exited with code 1: the token file cannot be read"
    assert "gmail" not in lines
    assert token not in done.out


async def test_a_server_that_never_starts_is_retried_less_and_less_often(tmp_path: Path) -> None:
    backed_off = asyncio.Event()

    def restarted(_name: str) -> None:
        # Each failed try doubles the wait before the next (0.01 s, 0.02 s, 0.04 s, ...); a
        # counter that went back to the bottom after every try would never reach 4.
        if supervisor.states()[0].restarts >= 4:
            backed_off.set()

    supervisor = Supervisor(
        [_broken("spotify")],
        environ={"PATH": os.environ["PATH"]},
        state_dir=tmp_path,
        min_backoff=0.01,
        max_backoff=0.5,
        on_restart=restarted,
    )
    await supervisor.start()
    try:
        await asyncio.wait_for(backed_off.wait(), 30)
        (state,) = supervisor.states()
    finally:
        await supervisor.stop()

    assert state.last_error == "exited with code 1: the token file cannot be read"
