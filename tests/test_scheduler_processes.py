"""Two real ``angie daemon`` processes on one database: only the holder of the scheduler's lease
fires, and when it is killed (``kill -9``: no clean release) the other takes over and fires.

The daemons tick every second (see ``fakes/cron_daemon.py``) and hold a three-second lease, so a
takeover is seen within seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import Lease, User
from angie.scheduler.service import Scheduler

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SCRIPT = Path(__file__).parent / "fakes" / "cron_daemon.py"
LEASE_SECONDS = "3"
RENEW_SECONDS = "0.5"


class Daemons:
    def __init__(self, url: str, data_dir: Path, fires: Path) -> None:
        self.env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(Path(__file__).parent),
            "PYDANTIC_AI_NO_BANNER": "1",
            "ANGIE_DATABASE_URL": url,
            "ANGIE_SCHEDULER_LEASE_SECONDS": LEASE_SECONDS,
            "ANGIE_SCHEDULER_RENEW_SECONDS": RENEW_SECONDS,
            "ANGIE_TEST_FIRES": str(fires),
        }
        self.logs = data_dir
        self.running: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> int:
        # Each daemon is a machine of its own, with its own data dir: one data dir is one
        # embedded Angie (the second process on it would stop at start).
        home = self.logs / name
        home.mkdir()
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(SCRIPT)],
                env={**self.env, "ANGIE_DATA_DIR": str(home), "HOME": str(home)},
                cwd=self.logs,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.running[process.pid] = process
        return process.pid

    def kill(self, pid: int) -> None:
        process = self.running.pop(pid)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def fired(fires: Path) -> list[tuple[int, str]]:
    """Every tick fired so far: (pid, schedule and tick)."""
    if not fires.exists():
        return []
    lines = fires.read_text(encoding="utf-8").splitlines()
    return [(int(pid), rest) for pid, rest in (line.split(" ", 1) for line in lines if line)]


async def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def holder_pid(database: Database) -> int | None:
    async with database.session() as session:
        holder = await session.scalar(select(Lease.holder).where(Lease.name == "scheduler"))
    return None if holder is None else int(holder.split(":")[-2])


async def test_one_of_two_daemons_fires_and_the_other_takes_over_when_it_is_killed(
    database_url: str, data_dir: Path
) -> None:
    database = Database(database_url)
    await migrate.upgrade(database.engine)
    async with database.session() as session:
        user = User(email=f"{uuid.uuid4().hex[:8]}@home.test", display_name="Sam")
        session.add(user)
        await session.flush()
        user_id = user.id
    await Scheduler(database).create(user_id, "Ping", "* * * * *", instruction="Ping me.")
    fires = data_dir / "fires.txt"
    daemons = Daemons(database_url, data_dir, fires)
    try:
        leader = daemons.start("first")
        await wait_for(lambda: len(fired(fires)) >= 2, 60, "the first daemon to fire")
        standby = daemons.start("second")
        await wait_for(
            lambda: "scheduler: standby" in daemons.log("second"), 60, "the second to stand by"
        )
        seen = len(fired(fires))
        await asyncio.sleep(float(LEASE_SECONDS) + 2)  # time enough to steal, were it to

        before = fired(fires)
        logs = f"{daemons.log('first')}\n{daemons.log('second')}"
        assert {pid for pid, _ in before[seen:]} == {leader}, f"{before}\n{logs}"
        assert await holder_pid(database) == leader

        daemons.kill(leader)
        killed_at = time.monotonic()
        await wait_for(
            lambda: any(pid == standby for pid, _ in fired(fires)), 30, "the standby to fire"
        )
        took = time.monotonic() - killed_at
        await asyncio.sleep(2)
        after = fired(fires)[len(before) :]

        assert {pid for pid, _ in after} <= {leader, standby}
        assert [pid for pid, _ in after if pid == standby], after
        assert await holder_pid(database) == standby
        # No tick fired twice, by either process.
        twice = [tick for tick, n in Counter(rest for _, rest in fired(fires)).items() if n > 1]
        assert twice == []
        # Taken over after the lease ran out, not long after.
        assert took < float(LEASE_SECONDS) + 10, took
        print(f"the standby fired {took:.1f}s after the leader was killed")
    finally:
        daemons.stop_all()
        await database.dispose()
