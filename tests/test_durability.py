"""At-least-once tasks, effects exactly once: Angie killed in the middle of a task (embedded
queue) or a worker killed in the middle of one (Redis) → the task completes once, and the
light is switched once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from sqlalchemy import select

from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import Task, TaskEffect, TaskStatus, User

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

SCRIPT = Path(__file__).parent / "fakes" / "angie_process.py"


class Processes:
    def __init__(self, url: str, data_dir: Path, bridge: FakeHueBridge, redis: str | None) -> None:
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(data_dir),
            "PYTHONPATH": str(Path(__file__).parent),
            "PYDANTIC_AI_NO_BANNER": "1",
            "ANGIE_DATABASE_URL": url,
            "ANGIE_DATA_DIR": str(data_dir),
            "FAKE_HUE_HOST": bridge.host,
            "FAKE_HUE_USERNAME": bridge.username,
            "ANGIE_TEST_MARK": str(data_dir / "hanging"),
        }
        if redis:
            self.env["ANGIE_REDIS_URL"] = redis
        self.running: list[subprocess.Popen[str]] = []

    def start(self, **extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT)],
            env={**self.env, **extra},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


async def prepare(url: str) -> tuple[Database, int]:
    database = Database(url)
    await migrate.upgrade(database.engine)
    async with database.session() as session:
        user = User(email=f"{uuid.uuid4().hex[:8]}@home.test", display_name="Sam")
        session.add(user)
        await session.flush()
        return database, user.id


async def task_state(database: Database) -> tuple[list[Task], int]:
    async with database.session() as session:
        tasks = list(await session.scalars(select(Task).order_by(Task.id)))
        effects = len(list(await session.scalars(select(TaskEffect))))
    return tasks, effects


async def kill_mid_task_then_recover(
    url: str, data_dir: Path, bridge: FakeHueBridge, redis: str | None
) -> None:
    import asyncio

    database, user = await prepare(url)
    procs = Processes(url, data_dir, bridge, redis)
    try:
        if redis:
            # Production split: the daemon side submits, a worker runs the task and dies.
            first = procs.start(ANGIE_TEST_ROLE="worker", ANGIE_TEST_HANG="1")
            submitter = procs.start(
                ANGIE_TEST_ROLE="daemon",
                ANGIE_TEST_SAY="hue: turn on the floor lamp",
                ANGIE_TEST_USER=str(user),
            )
        else:
            first = submitter = procs.start(
                ANGIE_TEST_HANG="1",
                ANGIE_TEST_SAY="hue: turn on the floor lamp",
                ANGIE_TEST_USER=str(user),
            )
        marker = data_dir / "hanging"
        await asyncio.to_thread(wait_for, marker.exists, 60, "the side effect")
        assert len([r for r in bridge.requests if r.method == "PUT"]) == 1
        first.kill()  # no clean shutdown: the task is left running
        first.wait(10)
        tasks, effects = await task_state(database)
        assert tasks[0].status is TaskStatus.RUNNING
        assert effects == 1
        procs.start(ANGIE_TEST_ROLE="worker" if redis else "serve")
        started = time.monotonic()

        async def finished() -> Task:
            while True:
                tasks, _ = await task_state(database)
                if tasks[0].status not in (TaskStatus.QUEUED, TaskStatus.RUNNING):
                    return tasks[0]
                assert time.monotonic() - started < 90, "the task was not picked up again"
                await asyncio.sleep(0.2)

        task = await finished()
        assert task.status is TaskStatus.SUCCEEDED, task.error
        assert task.attempts == 2
        # The light was switched once: the second run answered the call from the journal.
        tasks, effects = await task_state(database)
        assert len([r for r in bridge.requests if r.method == "PUT"]) == 1, [
            (t.id, t.kind, t.idempotency_key, t.attempts) for t in tasks
        ]
        assert bridge.lights["2"]["state"]["on"] is True
        print(f"picked up again after {time.monotonic() - started:.1f}s")
        del submitter
    finally:
        procs.stop_all()
        await database.dispose()


async def test_embedded_queue_finishes_a_task_after_a_crash_without_repeating_it(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    await kill_mid_task_then_recover(sqlite_url, data_dir, bridge, None)


@pytest.mark.redis
@pytest.mark.mysql
async def test_redis_redelivers_a_dead_workers_task_without_repeating_it(
    mysql_url: str, redis_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    from dramatiq.brokers.redis import RedisBroker

    RedisBroker(url=redis_url, namespace="angie-tasks").flush_all()  # type: ignore[no-untyped-call]
    await kill_mid_task_then_recover(mysql_url, data_dir, bridge, redis_url)
