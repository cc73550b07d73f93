"""The pre-forked launcher: forked servers lead their own sessions under it, die with it and
come back with a new one; a launcher that cannot start leaves the supervisor on exec; a server
the launcher cannot run as an exec would is exec'd; a stop leaves nothing behind."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastmcp import Client

from angie.db.models import ServerHealth
from angie.mcp.forked import Launcher
from angie.mcp.registry import ServerSpec, builtin_specs
from angie.mcp.supervisor import LauncherMode, Supervisor

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

SAMPLE = (
    Path(__file__).resolve().parents[1] / "mcp_servers" / "_core" / "tests" / "sample_server.py"
)


def sample(**env: str) -> ServerSpec:
    command = (sys.executable, str(SAMPLE))
    return ServerSpec("sample", "stdio", command=command, env=env, builtin=True)


def supervisor(tmp_path: Path, *specs: ServerSpec, launcher: LauncherMode = "fork") -> Supervisor:
    return Supervisor(
        specs or [sample()],
        environ={"PATH": os.environ["PATH"], "ANGIE_SAMPLE_API_KEY": "sample-key"},
        state_dir=tmp_path / "mcp",
        min_backoff=0.1,
        launcher=launcher,
    )


def stat(pid: int) -> dict[str, int]:
    """ppid, pgrp and session of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return {"ppid": int(fields[1]), "pgrp": int(fields[2]), "session": int(fields[3])}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def brightness(sup: Supervisor) -> int:
    endpoint = sup.endpoint("sample")
    async with Client(endpoint.url, auth=endpoint.token) as client:
        return int((await client.call_tool("brightness", {"room": "kitchen"})).data)


async def test_a_forked_server_leads_its_own_session_under_the_launcher(tmp_path: Path) -> None:
    sup = supervisor(tmp_path)
    await sup.start()
    try:
        (state,) = sup.states()
        assert state.pid is not None
        assert sup.launcher_pid is not None
        leader = {"ppid": sup.launcher_pid, "pgrp": state.pid, "session": state.pid}
        assert stat(state.pid) == leader
        # The launcher too is out of Angie's process group: Ctrl-C is for Angie alone.
        assert stat(sup.launcher_pid)["session"] == sup.launcher_pid
        assert await brightness(sup) == 40
    finally:
        await sup.stop()


async def test_a_built_in_server_runs_forked_from_its_imported_package(tmp_path: Path) -> None:
    sup = supervisor(tmp_path, builtin_specs(["hue"])["hue"])
    await sup.start()
    try:
        (state,) = sup.states()
        assert state.health is ServerHealth.HEALTHY
        assert state.pid is not None
        assert stat(state.pid)["ppid"] == sup.launcher_pid
        assert state.missing_settings == ("ANGIE_HUE_BRIDGE_HOST", "ANGIE_HUE_USERNAME")
    finally:
        await sup.stop()


async def test_the_launchers_death_takes_its_servers_and_both_come_back(tmp_path: Path) -> None:
    sup = supervisor(tmp_path)
    await sup.start()
    try:
        before = sup.endpoint("sample")
        (state,) = sup.states()
        launcher, server = sup.launcher_pid, state.pid
        assert launcher is not None
        assert server is not None
        os.kill(launcher, 9)
        await wait_for(lambda: not alive(server))  # its parent-death signal
        await wait_for(lambda: sup.states()[0].health is not ServerHealth.HEALTHY)
        await wait_for(lambda: sup.states()[0].health is ServerHealth.HEALTHY)
        after = sup.endpoint("sample")
        assert after.generation == before.generation + 1
        assert sup.launcher == "fork"
        assert sup.launcher_pid not in (None, launcher)
        assert stat(sup.states()[0].pid or 0)["ppid"] == sup.launcher_pid
        assert await brightness(sup) == 40
    finally:
        await sup.stop()


async def test_a_launcher_that_cannot_start_leaves_the_supervisor_on_exec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Launcher, "module", "angie.mcp.no_such_launcher")
    sup = supervisor(tmp_path)
    with caplog.at_level(logging.WARNING, logger="angie.mcp"):
        await sup.start()
    try:
        assert sup.launcher == "exec"
        assert sup.launcher_pid is None
        assert "the MCP launcher exited: " in caplog.text
        assert "No module named angie.mcp.no_such_launcher" in caplog.text
        assert "starting MCP servers with exec from now on" in caplog.text
        (state,) = sup.states()
        assert state.health is ServerHealth.HEALTHY
        assert state.pid is not None
        assert stat(state.pid)["ppid"] == os.getpid()
        assert await brightness(sup) == 40
    finally:
        await sup.stop()


async def test_a_server_that_sets_an_interpreter_variable_is_execd(tmp_path: Path) -> None:
    # The launcher's interpreter started with its own PYTHONHASHSEED; a fork would keep it.
    sup = supervisor(tmp_path, sample(PYTHONHASHSEED="7"))
    await sup.start()
    try:
        (state,) = sup.states()
        assert sup.launcher == "fork"
        assert state.pid is not None
        assert stat(state.pid)["ppid"] == os.getpid()
    finally:
        await sup.stop()


@pytest.mark.parametrize("launcher", ["fork", "exec"])
async def test_a_stop_leaves_no_server_and_no_launcher(
    launcher: LauncherMode, tmp_path: Path
) -> None:
    sup = supervisor(tmp_path, launcher=launcher)
    await sup.start()
    pids = [s.pid for s in sup.states() if s.pid] + [p for p in [sup.launcher_pid] if p]
    assert len(pids) == (2 if launcher == "fork" else 1)
    await sup.stop()
    assert [pid for pid in pids if alive(pid)] == []
    assert sup.states()[0].health is ServerHealth.STOPPED
