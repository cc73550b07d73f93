"""A stop loses nothing and leaves nothing behind: SIGTERM to Angie's whole process group
(Ctrl-C, systemd's control-group kill) while tasks are calling a slow tool, then a restart →
every task's effect happened exactly once; a hung third-party server cannot keep Angie from
exiting within her grace, and no MCP server outlives her."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from sqlalchemy import select
from test_durability import prepare

from angie.db.engine import Database
from angie.db.models import Task, TaskStatus

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FAKES = Path(__file__).parent / "fakes"
LIGHTS = {"1": "Sofa lamp", "2": "Floor lamp", "4": "Kitchen ceiling", "5": "Kitchen counter"}
LIGHTS["6"] = "Coffee machine"


def start_angie(
    url: str, data_dir: Path, bridge: FakeHueBridge, **extra: str
) -> subprocess.Popen[bytes]:
    """``angie serve`` as the tests run it, in a process group of its own (as a shell or
    systemd starts it), working in ``data_dir`` so its children can be found by their cwd."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(data_dir),
        "PYTHONPATH": str(Path(__file__).parent),
        "PYDANTIC_AI_NO_BANNER": "1",
        "ANGIE_DATABASE_URL": url,
        "ANGIE_DATA_DIR": str(data_dir),
        "FAKE_HUE_HOST": bridge.host,
        "FAKE_HUE_USERNAME": bridge.username,
        "ANGIE_TEST_MARK": str(data_dir / "hanging"),
        **extra,
    }
    with (data_dir / "angie.log").open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, str(FAKES / "angie_process.py")],
            env=env,
            cwd=data_dir,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )


def stop_now(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def wait_ready(process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == b"ready":
            return
    raise AssertionError(f"Angie did not start (exit code {process.wait()})")


def survivors(data_dir: Path) -> list[str]:
    """Live processes (zombies aside) working under ``data_dir`` or naming it: Angie's
    children, wherever they were re-parented."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if status != "Z" and (cwd.startswith(str(data_dir)) or str(data_dir) in cmdline):
            found.append(f"{entry.name}: {cmdline}")
    return found


async def all_tasks(database: Database) -> list[Task]:
    async with database.session() as session:
        return list(await session.scalars(select(Task).order_by(Task.id)))


def puts(bridge: FakeHueBridge, light: str) -> int:
    return len([r for r in bridge.requests if r.method == "PUT" and f"/lights/{light}/" in r.path])


async def stop_and_restart(
    url: str, data_dir: Path, bridge: FakeHueBridge, *, grace: float
) -> tuple[list[Task], list[int]]:
    """Five tasks switching lights on, SIGTERM to Angie's group while each is at its light,
    a restart; the tasks as they ended, and those that succeeded without their light."""
    database, user = await prepare(url)
    say = "\n".join(f"hue: switch on {name}" for name in LIGHTS.values())
    running: list[subprocess.Popen[bytes]] = []
    try:
        bridge.delay = 1.5  # every bridge answer is slow: the tasks are in flight at the stop
        first = start_angie(
            url,
            data_dir,
            bridge,
            ANGIE_TEST_SAY=say,
            ANGIE_TEST_USER=str(user),
            ANGIE_WORKER_THREADS=str(len(LIGHTS)),
            ANGIE_TEST_GRACE=str(grace),
        )
        running.append(first)
        wait_ready(first)
        deadline = time.monotonic() + 60
        while len([r for r in bridge.requests if "/lights" in r.path]) < len(LIGHTS):
            assert time.monotonic() < deadline, "the tasks did not reach the bridge"
            await asyncio.sleep(0.05)
        # Each task is looking at its light now; switching it on is its next call.
        os.killpg(first.pid, signal.SIGTERM)  # Ctrl-C in a shell, or systemd stopping Angie
        await asyncio.to_thread(first.wait, 60)
        assert survivors(data_dir) == []

        bridge.delay = 0
        bridge.release()
        second = start_angie(url, data_dir, bridge, ANGIE_TEST_GRACE="5")
        running.append(second)
        wait_ready(second)
        deadline = time.monotonic() + 90
        pending = (TaskStatus.QUEUED, TaskStatus.RUNNING)
        while any(t.status in pending for t in await all_tasks(database)):
            assert time.monotonic() < deadline, "the tasks were not finished after the restart"
            await asyncio.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)

        tasks = await all_tasks(database)
        lost = [
            t.id
            for t in tasks
            if t.parent_id is None
            and t.status is TaskStatus.SUCCEEDED
            and puts(bridge, _light_of(str(t.input.get("text")))) == 0
        ]
        print(f"tasks that succeeded without their effect: {len(lost)} of {len(LIGHTS)}")
        return tasks, lost
    finally:
        for process in running:
            stop_now(process)
        await database.dispose()


async def test_a_stop_of_the_process_group_loses_no_task_and_repeats_no_effect(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    tasks, lost = await stop_and_restart(sqlite_url, data_dir, bridge, grace=30)
    assert lost == []
    assert [(t.id, t.status, t.error) for t in tasks if t.status is not TaskStatus.SUCCEEDED] == []
    # The tasks finished within the grace, with their servers still up: each light once.
    assert {name: puts(bridge, light) for light, name in LIGHTS.items()} == dict.fromkeys(
        LIGHTS.values(), 1
    ), story(tasks, bridge, data_dir)


async def test_tasks_still_running_after_the_grace_run_again_at_the_next_start(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    tasks, lost = await stop_and_restart(sqlite_url, data_dir, bridge, grace=0.5)
    assert lost == []
    assert [(t.id, t.status, t.error) for t in tasks if t.status is not TaskStatus.SUCCEEDED] == []
    assert any(t.attempts == 2 for t in tasks if t.parent_id is None), "none was stopped"
    # A call that was out when Angie stopped may be made again (set_light is idempotent).
    assert all(1 <= puts(bridge, light) <= 2 for light in LIGHTS)


def story(tasks: list[Task], bridge: FakeHueBridge, data_dir: Path) -> str:
    """What happened, for a failure to explain itself: each task's runs, the bridge's requests
    and what Angie said at WARNING and above, or about her tasks and servers."""
    lines = [
        f"task {t.id} (parent {t.parent_id}) {t.status.value} after {t.attempts} attempt(s): "
        f"{str(t.input.get('text') or t.input.get('request'))[:60]!r}"
        for t in tasks
    ]
    lines += [f"bridge: {r.method} {r.path}" for r in bridge.requests if "/lights" in r.path]
    said = (data_dir / "angie.log").read_text(errors="replace").splitlines()
    lines += [
        line[:300]
        for line in said
        if any(w in line for w in ("WARNING", "ERROR", "angie.tasks", "angie.mcp", "angie.daemon"))
    ]
    return "\n".join(lines)


def _light_of(text: str) -> str:
    return next(light for light, name in LIGHTS.items() if text.endswith(name))


async def test_angie_exits_within_her_grace_after_a_hung_tool_call_and_leaves_no_server(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    database, user = await prepare(sqlite_url)
    pids = data_dir / "hang.pids"
    (data_dir / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "hang": {
                        "command": sys.executable,
                        "args": [str(FAKES / "hang_server.py"), str(pids)],
                    }
                }
            }
        )
    )
    angie = start_angie(
        sqlite_url,
        data_dir,
        bridge,
        ANGIE_TEST_SAY="/tool hang.hang {}\n/tool hang.hang {}",
        ANGIE_TEST_USER=str(user),
        ANGIE_WORKER_THREADS="1",  # one call after the other
        ANGIE_MCP_TIMEOUT="2",
        ANGIE_TEST_GRACE="3",
    )
    try:
        wait_ready(angie)
        deadline = time.monotonic() + 60
        while not (pids.exists() and len(pids.read_text().split()) >= 2):
            assert time.monotonic() < deadline, "the second call did not start its server"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the second call is out, to a server that will not answer
        angie.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            await asyncio.to_thread(angie.wait, 3 + 6)  # the grace, then servers and exit
        except subprocess.TimeoutExpired:
            angie.send_signal(signal.SIGUSR1)
            await asyncio.sleep(1)
            pytest.fail("Angie did not exit within her grace after SIGTERM")
        print(f"exited {time.monotonic() - started:.1f} s after SIGTERM")
        await asyncio.sleep(0.2)
        assert survivors(data_dir) == []
        first = (await all_tasks(database))[0]
        assert first.status is TaskStatus.FAILED
        assert first.error == "the hang server did not answer within 2 s"
    finally:
        stop_now(angie)
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        await database.dispose()
