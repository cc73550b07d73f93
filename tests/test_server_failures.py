"""A failing MCP server is named with what happened to it — killed (with its exit code, and the
task runs again) or silent past the timeout — never "something went wrong (…)"."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import MCPError
from mcp.types import REQUEST_TIMEOUT

from angie.agents.direct import DirectCaller, ServerSilent
from angie.agents.toolbox import Toolbox
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import TaskKind
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import ServerGone, Supervisor, SupervisorError
from angie.tasks.service import TaskService
from angie.worker import _explain, _transient

SAMPLE = Path(__file__).resolve().parents[1] / "mcp_servers/_core/tests/sample_server.py"
HANG = Path(__file__).parent / "fakes" / "hang_server.py"


def test_a_server_error_wrapped_by_a_task_group_is_still_named() -> None:
    gone = ServerGone("the hue server exited with code -9 during the call")
    wrapped = ExceptionGroup("unhandled errors in a TaskGroup", [gone])
    assert _explain(wrapped) == "the hue server exited with code -9 during the call"
    assert _transient(wrapped)


def test_a_client_error_raised_from_a_supervisor_error_is_named_by_it() -> None:
    err = RuntimeError("Failed to initialize server session")
    err.__cause__ = SupervisorError("the weather server did not start within 30 s")
    assert _explain(err) == "the weather server did not start within 30 s"
    assert _transient(err)


@pytest.fixture
async def caller(tmp_path: Path) -> AsyncIterator[tuple[DirectCaller, Supervisor, int]]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'angie.db'}")
    await migrate.upgrade(database.engine)
    task, _ = await TaskService(database).submit(TaskKind.CHAT, user_id=None, input={})
    specs = {
        "sample": ServerSpec(
            name="sample",
            transport="stdio",
            command=(sys.executable, str(SAMPLE)),
            builtin=True,
        ),
        "hang": ServerSpec(
            name="hang",
            transport="stdio",
            command=(sys.executable, str(HANG), str(tmp_path / "pids")),
            source="mcp.json",
        ),
    }
    environ = {"PATH": os.environ["PATH"], "ANGIE_SAMPLE_API_KEY": "sample-key"}
    supervisor = Supervisor(
        [specs["sample"]], environ=environ, state_dir=tmp_path / "mcp", min_backoff=30
    )
    await supervisor.start()
    toolbox = Toolbox(
        database, servers=lambda: specs, supervisor=supervisor, timeout=2, environ=environ
    )
    try:
        yield DirectCaller(toolbox), supervisor, task.id
    finally:
        await supervisor.stop(grace=1)
        await database.dispose()


@pytest.mark.slow
async def test_a_direct_call_to_a_killed_server_names_it_and_its_exit_code(
    caller: tuple[DirectCaller, Supervisor, int],
) -> None:
    direct, supervisor, task_id = caller
    pid = next(s.pid for s in supervisor.states() if s.name == "sample")
    assert pid is not None
    call = asyncio.create_task(direct.call(task_id, "sample", "slow", {"seconds": 1.5}))
    await asyncio.sleep(1.0)  # the call is out
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ServerGone) as failure:
        await call
    assert _explain(failure.value) == "the sample server exited with code -9 during the call"
    assert _transient(failure.value)  # the task runs again once the server is back


@pytest.mark.slow
async def test_a_direct_call_to_a_hung_server_names_it_and_the_timeout(
    caller: tuple[DirectCaller, Supervisor, int],
) -> None:
    direct, _, task_id = caller
    with pytest.raises(ServerSilent) as failure:
        await direct.call(task_id, "hang", "hang", {})
    assert _explain(failure.value) == "the hang server did not answer within 2 s"
    assert not _transient(failure.value)
    assert isinstance(failure.value.__cause__, MCPError)
    assert failure.value.__cause__.code == REQUEST_TIMEOUT
