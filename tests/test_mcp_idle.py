"""Forked servers nobody calls rest: stopped after ``idle_after`` seconds, forked again by the
next call (an agent's, with its kept session replaced, or a direct one), shown healthy and idle
meanwhile; a server in use, or an exec'd one, keeps running."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
from fastmcp import Client
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from test_mcp_launcher import alive, wait_for

from angie.daemon import _idle_after
from angie.db.models import ServerHealth
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import LauncherMode, Supervisor, SupervisorError
from angie.mcp.toolsets import ServerToolset
from angie.settings import AngieSettings

pytestmark = [pytest.mark.slow]

SAMPLE = (
    Path(__file__).resolve().parents[1] / "mcp_servers" / "_core" / "tests" / "sample_server.py"
)
SPEC = ServerSpec("sample", "stdio", command=(sys.executable, str(SAMPLE)), builtin=True)


def supervisor(tmp_path: Path, *, idle_after: float, launcher: LauncherMode = "fork") -> Supervisor:
    return Supervisor(
        [SPEC],
        environ={"PATH": os.environ["PATH"], "ANGIE_SAMPLE_API_KEY": "sample-key"},
        state_dir=tmp_path / "mcp",
        launcher=launcher,
        idle_after=idle_after,
    )


async def brightness(sup: Supervisor) -> int:
    endpoint = await sup.ready("sample", within=10)
    async with Client(endpoint.url, auth=endpoint.token) as client:
        return int((await client.call_tool("brightness", {"room": "kitchen"})).data)


async def test_an_idle_server_rests_and_the_next_call_forks_it_again(tmp_path: Path) -> None:
    # Long enough that the woken server is still up when it is looked at, on a busy machine.
    sup = supervisor(tmp_path, idle_after=1.0)
    await sup.start()
    try:
        (state,) = sup.states()
        first, generation = state.pid, sup.endpoint("sample").generation
        assert first is not None
        await wait_for(lambda: sup.states()[0].idle)
        await wait_for(lambda: not alive(first))
        (state,) = sup.states()
        # Resting is not trouble: healthy, idle, what it said of its settings kept.
        assert (state.health, state.idle, state.pid) == (ServerHealth.HEALTHY, True, None)
        assert state.configured is True
        with pytest.raises(SupervisorError, match="the sample server is resting"):
            sup.endpoint("sample")
        assert await sup.went_away("sample", generation) == "was stopped while nobody used it"

        assert await brightness(sup) == 40
        (state,) = sup.states()
        assert (state.idle, state.restarts) == (False, 0)
        assert state.pid not in (None, first)
        assert sup.endpoint("sample").generation == generation + 1
    finally:
        await sup.stop()


async def test_callers_arriving_together_share_one_wake(tmp_path: Path) -> None:
    sup = supervisor(tmp_path, idle_after=1.0)
    await sup.start()
    try:
        await wait_for(lambda: sup.states()[0].idle)
        generation = sup._children["sample"].generation
        assert await asyncio.gather(*(brightness(sup) for _ in range(5))) == [40] * 5
        assert sup.endpoint("sample").generation == generation + 1
    finally:
        await sup.stop()


async def test_a_server_in_use_keeps_running(tmp_path: Path) -> None:
    sup = supervisor(tmp_path, idle_after=0.5)
    await sup.start()
    try:
        pid = sup.states()[0].pid
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            assert await brightness(sup) == 40
            await asyncio.sleep(0.1)
        assert sup.states()[0].pid == pid
        assert not sup.states()[0].idle
    finally:
        await sup.stop()


async def test_a_server_without_its_settings_rests_sooner_than_one_with_them(
    tmp_path: Path,
) -> None:
    configured = ServerSpec(
        "lit",
        "stdio",
        command=SPEC.command,
        env={"SAMPLE_PREFIX": "ANGIE_LIT_", "ANGIE_LIT_API_KEY": "key"},
        builtin=True,
    )
    sup = Supervisor(
        [SPEC, configured],
        environ={"PATH": os.environ["PATH"]},  # "sample" lacks ANGIE_SAMPLE_API_KEY
        state_dir=tmp_path / "mcp",
        launcher="fork",
        idle_after=60,
        unconfigured_after=0.3,
    )
    await sup.start()
    try:
        states = {s.name: s for s in sup.states()}
        assert (states["sample"].configured, states["lit"].configured) == (False, True)
        await wait_for(lambda: {s.name: s for s in sup.states()}["sample"].idle)
        lit = {s.name: s for s in sup.states()}["lit"]
        assert (lit.idle, lit.pid) == (False, states["lit"].pid)
        # Called, it wakes, still known to lack its settings.
        assert await brightness(sup) == 40
        sample = {s.name: s for s in sup.states()}["sample"]
        assert (sample.idle, sample.configured) == (False, False)
        assert sample.missing_settings == ("ANGIE_SAMPLE_API_KEY",)
    finally:
        await sup.stop()


async def test_an_execd_server_is_not_stopped_for_idleness(tmp_path: Path) -> None:
    sup = supervisor(tmp_path, idle_after=0.2, launcher="exec")
    await sup.start()
    try:
        pid = sup.states()[0].pid
        await asyncio.sleep(1.0)
        (state,) = sup.states()
        assert (state.pid, state.idle) == (pid, False)
    finally:
        await sup.stop()


async def test_an_agent_run_wakes_its_server_and_replaces_its_kept_session(
    tmp_path: Path,
) -> None:
    sup = supervisor(tmp_path, idle_after=0.3)
    await sup.start()
    toolset = ServerToolset(SPEC, sup, timeout=10)

    def respond(messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("sample_brightness", {"room": "kitchen"})])
        returned = [p.content for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        return ModelResponse(parts=[TextPart(" ".join(map(str, returned)))])

    agent = Agent(FunctionModel(respond), toolsets=[toolset])
    try:
        assert (await agent.run("how bright?")).output == "40"
        await wait_for(lambda: sup.states()[0].idle)
        # The session kept from the first run went with the server; the next run opens one.
        assert (await agent.run("and now?")).output == "40"
        assert not sup.states()[0].idle
    finally:
        await toolset.aclose()
        await sup.stop()


async def test_a_stop_leaves_no_server_whether_resting_or_not(tmp_path: Path) -> None:
    sup = supervisor(tmp_path, idle_after=0.2)
    await sup.start()
    first = sup.states()[0].pid
    assert first is not None
    await wait_for(lambda: sup.states()[0].idle)
    launcher = sup.launcher_pid
    await sup.stop()
    assert launcher is not None
    await wait_for(lambda: not alive(launcher) and not alive(first))
    assert [(s.health, s.idle) for s in sup.states()] == [(ServerHealth.STOPPED, False)]


@pytest.mark.parametrize(
    ("idle", "timeout", "expected"),
    [("600", "30", 600.0), ("5", "30", 60.0), ("0", "30", None)],
)
def test_a_rest_never_comes_before_twice_the_call_timeout(
    idle: str, timeout: str, expected: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_MCP_IDLE_SECONDS", idle)
    monkeypatch.setenv("ANGIE_MCP_TIMEOUT", timeout)
    assert _idle_after(AngieSettings(_env_file=None)) == expected
