"""MCP servers through the HTTP API: the household's servers with their health, the tools of a
running one (the real Hue server on a fake bridge) with the approval decision each gets, and
policy changes, which only admins make."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from inspect import isawaitable
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import (
    ApiHarness,
    agent_id,
    api_harness,
    error_message,
    hue_api_harness,
    make_api_angie,
)
from fakes.brain import Brain
from sqlalchemy import select

from angie.db.models import ApprovalMode, McpServer, ServerHealth, Task, TaskKind, TaskStatus
from angie.mcp.registry import ServerSpec

SERVERS = "/api/mcp/servers"


async def _row(api: ApiHarness, name: str) -> McpServer:
    async with api.angie.services.database.session() as session:
        return (await session.scalars(select(McpServer).where(McpServer.name == name))).one()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def hue_api(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[ApiHarness]:
    async with hue_api_harness(sqlite_url, data_dir, bridge, Brain()) as harness:
        yield harness


async def test_everyone_signed_in_sees_the_servers(api: ApiHarness) -> None:
    await api.signup("admin")
    sam = await api.signup("sam")

    listed = await api.client.get(SERVERS, headers=sam.headers)
    one = await api.client.get(f"{SERVERS}/hue", headers=sam.headers)

    assert listed.status_code == 200, listed.text
    names = [s["name"] for s in listed.json()["items"]]
    assert names == sorted(names)
    assert {"hue", "github", "gmail"} <= set(names)
    assert one.status_code == 200, one.text
    hue = one.json()
    assert hue == next(s for s in listed.json()["items"] if s["name"] == "hue")
    assert hue["builtin"] is True
    assert hue["enabled"] is True
    assert hue["active"] is False  # this Angie runs no servers
    assert hue["health"] == "unknown"
    assert hue["approval_mode"] == "auto"
    assert hue["tool_policies"] == {}
    error_message(await api.client.get(SERVERS), 401)


async def test_an_unknown_or_malformed_server_name(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    assert error_message(await api.client.get(f"{SERVERS}/weather", headers=sam.headers), 404) == (
        "there is no MCP server 'weather'"
    )
    error_message(await api.client.get(f"{SERVERS}/Hue!", headers=sam.headers), 422)


async def test_tools_of_a_seeded_server_that_is_not_installed_are_a_404(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")

    for name in ("hue", "angie"):  # seeded rows; this Angie has no server packages
        answer = await api.client.get(f"{SERVERS}/{name}/tools", headers=sam.headers)
        assert error_message(answer, 404) == f"the {name} server is not installed here"


async def test_only_admins_change_a_servers_policy(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    sam = await api.signup("sam")
    change = {"approval_mode": "never", "tool_policies": {"list_lights": "allow"}}

    refused = await api.client.patch(f"{SERVERS}/hue", json=change, headers=sam.headers)
    before = await _row(api, "hue")
    allowed = await api.client.patch(f"{SERVERS}/hue", json=change, headers=admin.headers)

    assert "admin" in error_message(refused, 403)
    assert before.approval_mode is ApprovalMode.AUTO
    assert before.tool_policies == {}
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["approval_mode"] == "never"
    assert allowed.json()["tool_policies"] == {"list_lights": "allow"}
    after = await _row(api, "hue")
    assert after.approval_mode is ApprovalMode.NEVER
    assert after.tool_policies == {"list_lights": "allow"}
    # Everyone sees the household's policy.
    seen = await api.client.get(f"{SERVERS}/hue", headers=sam.headers)
    assert seen.json()["approval_mode"] == "never"


async def test_disable_a_server(api: ApiHarness) -> None:
    admin = await api.signup("admin")

    response = await api.client.patch(
        f"{SERVERS}/github", json={"enabled": False}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False
    assert (await _row(api, "github")).enabled is False
    off = await api.client.get(SERVERS, params={"enabled": "false"}, headers=admin.headers)
    assert [s["name"] for s in off.json()["items"]] == ["github"]
    tools = await api.client.get(f"{SERVERS}/github/tools", headers=admin.headers)
    assert "disabled" in error_message(tools, 409)


BAD_CHANGES: list[tuple[dict[str, Any], str]] = [
    ({"approval_mode": "sometimes"}, "approval_mode"),
    ({"tool_policies": {"set light": "allow"}}, "tool_policies"),
    ({"tool_policies": {"x" * 129: "allow"}}, "tool_policies"),
    ({"tool_policies": {"set_light": "maybe"}}, "tool_policies"),
    ({"tool_policies": ["set_light"]}, "tool_policies"),
    ({"enabled": None}, "enabled"),
    ({"approval_mode": None}, "approval_mode"),
    ({"transport": "http"}, "transport"),
]


async def test_a_bad_policy_is_refused(api: ApiHarness) -> None:
    admin = await api.signup("admin")

    for change, why in BAD_CHANGES:
        response = await api.client.patch(f"{SERVERS}/hue", json=change, headers=admin.headers)
        assert why in error_message(response, 422), change

    row = await _row(api, "hue")
    assert (row.enabled, row.approval_mode, row.tool_policies) == (True, ApprovalMode.AUTO, {})


async def test_tools_of_a_server_enabled_after_angie_started_are_a_409(
    sqlite_url: str, data_dir: Path
) -> None:
    # Installed, but off when Angie started; the household's row says on (enabled since).
    url = f"http://127.0.0.1:{_closed_port()}/mcp"
    specs = {"hue": ServerSpec(name="hue", transport="http", url=url, source="file", enabled=False)}
    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain(), specs=specs)) as api:
        sam = await api.signup("sam")

        tools = await api.client.get(f"{SERVERS}/hue/tools", headers=sam.headers)

        assert "restart her" in error_message(tools, 409)


async def test_a_server_that_cannot_be_reached_is_a_503(sqlite_url: str, data_dir: Path) -> None:
    """A server from an mcpServers file that is down: listed (registered on sight), tools 503."""
    url = f"http://127.0.0.1:{_closed_port()}/mcp"
    specs = {"weather": ServerSpec(name="weather", transport="http", url=url, source="file")}
    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain(), specs=specs)) as api:
        admin = await api.signup("admin")

        listed = await api.client.get(SERVERS, headers=admin.headers)
        tools = await api.client.get(f"{SERVERS}/weather/tools", headers=admin.headers)

        weather = next(s for s in listed.json()["items"] if s["name"] == "weather")
        assert weather["transport"] == "http"
        assert weather["builtin"] is False
        assert weather["active"] is True
        assert "cannot reach the weather server" in error_message(tools, 503)
        # Registered, so an admin can set its policy.
        patched = await api.client.patch(
            f"{SERVERS}/weather", json={"approval_mode": "ask"}, headers=admin.headers
        )
        assert patched.status_code == 200, patched.text
        assert (await _row(api, "weather")).approval_mode is ApprovalMode.ASK


@pytest.mark.slow
async def test_tools_of_the_running_hue_server_with_their_decisions(hue_api: ApiHarness) -> None:
    api = hue_api
    admin = await api.signup("admin")
    sam = await api.signup("sam")

    server = await api.client.get(f"{SERVERS}/hue", headers=sam.headers)
    listed = await api.client.get(f"{SERVERS}/hue/tools", headers=sam.headers)

    assert server.json()["health"] == "healthy"
    assert server.json()["active"] is True
    assert server.json()["restarts"] == 0
    assert listed.status_code == 200, listed.text
    tools = {t["name"]: t for t in listed.json()}
    assert {"list_lights", "set_light"} <= set(tools)
    lights, set_light = tools["list_lights"], tools["set_light"]
    assert lights["prefixed_name"] == "hue_list_lights"
    assert lights["read_only"] is True
    assert lights["annotations"]["readOnlyHint"] is True
    assert lights["description"]
    assert "properties" in set_light["input_schema"]
    # auto: what only reads runs, what changes things asks.
    assert (lights["decision"], lights["untrusted_decision"]) == ("allow", "allow")
    assert set_light["read_only"] is False
    assert (set_light["decision"], set_light["untrusted_decision"]) == ("ask", "ask")
    agents = await api.client.get("/api/agents", params={"q": "hue"}, headers=sam.headers)
    assert next(a for a in agents.json()["items"] if a["name"] == "hue")["available"] is True

    await api.client.patch(
        f"{SERVERS}/hue",
        json={"tool_policies": {"set_light": "allow", "list_lights": "never"}},
        headers=admin.headers,
    )
    after = {
        t["name"]: t
        for t in (await api.client.get(f"{SERVERS}/hue/tools", headers=sam.headers)).json()
    }

    assert after["list_lights"]["decision"] == "never"
    assert after["set_light"]["decision"] == "allow"
    # A webhook's run still asks before it changes anything.
    assert after["set_light"]["untrusted_decision"] == "ask"


async def _until(check: Callable[[], bool | Awaitable[bool]], seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not (await done if isawaitable(done := check()) else done):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def _list_lights(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    return ("hue_list_lights", {}) if "hue_list_lights" in tools else None


@pytest.mark.slow
async def test_a_task_waits_for_a_crashed_server_being_restarted(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    brain = Brain(plans={"lights": _list_lights})
    async with hue_api_harness(sqlite_url, data_dir, bridge, brain) as api:
        sam = await api.signup("sam")
        supervisor = api.angie.services.servers.supervisor
        assert supervisor is not None
        [hue] = supervisor.states()
        assert hue.pid is not None
        os.kill(hue.pid, signal.SIGKILL)
        # Once the crash is seen, the restart is under way.
        await _until(lambda: supervisor.states()[0].health is not ServerHealth.HEALTHY)

        answer = await api.client.post(
            "/api/chat",
            params={"wait": 30},
            json={"text": "hue: list the lights"},
            headers=sam.headers,
        )

        body = answer.json()
        assert body["status"] == "succeeded", body
        assert "Floor lamp" in body["reply"]
        assert supervisor.states()[0].restarts == 1


@pytest.mark.slow
async def test_a_task_whose_server_cannot_be_had_is_retried_with_the_reason(
    sqlite_url: str, data_dir: Path
) -> None:
    broken = ServerSpec(
        "hue", "stdio", command=(sys.executable, "-c", "raise SystemExit(3)"), builtin=True
    )
    angie = make_api_angie(sqlite_url, data_dir, Brain(), specs={"hue": broken}, mcp_timeout=1)
    async with api_harness(angie) as api:
        services = api.angie.services
        task, _ = await services.tasks.submit(
            TaskKind.AGENT,
            user_id=None,
            input={"text": "list the lights"},
            agent_id=await agent_id(api, "hue"),
        )
        services.queue.enqueue(task.id)

        seen: list[Task] = []

        async def retried() -> bool:
            seen.append(await services.tasks.require(task.id))
            return seen[-1].error is not None

        await _until(retried)
        queued = seen[-1]
        assert queued.status is TaskStatus.QUEUED
        assert queued.error == "the hue server exited with code 3; Angie retries"
        failed = await api.settled(task.id, seconds=40)

    assert (failed.status, failed.attempts) == (TaskStatus.FAILED, 3)
    assert failed.error == "the hue server exited with code 3"
