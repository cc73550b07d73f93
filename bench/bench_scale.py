"""Scale-out: tasks per second with 1, 2 and 4 ``worker`` Angies, each its own OS process with
its own Hue MCP server, behind one ``daemon`` Angie in this process; then a worker SIGKILLed in
the middle of a burst, and the count of what was lost or done twice.

The work needs no model: MESSAGE events whose text is ``/tool hue.list_lights {}``. The
database is a fresh MariaDB database per run (dropped after), so the workers share it as they do
in production; Redis is a database of its own, its queue namespace flushed before each run. A run
is done when every task of the burst is terminal in the database (polled, as the workers' web
deliveries stay in their own processes). Memory is the PSS of each worker's process tree (the
worker and its Hue server), read from /proc after the burst.

The kill run checks, from the rows: every event has exactly one task, every task succeeded, and
every task told the person once (one assistant message per task: a redelivered task whose first
run had finished must not answer again; a task settled ``succeeded`` by a worker killed before
it recorded the answer counts as lost, as the person never hears of it). It exits non-zero
otherwise. A dead worker's unacked
messages come back once its Redis heartbeat is older than the broker's heartbeat timeout (see
``angie.tasks.queue``), so that run takes about half a minute longer than the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from angie_mcp_hue.testing import FakeHueBridge
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from angie.daemon import Angie
from angie.db.models import (
    ChannelKind,
    Event,
    EventType,
    Message,
    MessageRole,
    Task,
    TaskStatus,
    ToolCall,
    User,
)
from angie.events.router import NewEvent
from angie.mcp.registry import builtin_specs
from angie.settings import AngieSettings

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness

# The default keeps `make bench` short; ANGIE_BENCH_TASKS=500 runs the full size.
TASKS = int(os.environ.get("ANGIE_BENCH_TASKS", "200"))
THREADS = 4
SUBMITTERS = 16
WORKER_COUNTS = (1, 2, 4)
COMMAND = "/tool hue.list_lights {}"
# A Redis database of its own: the other benchmarks use 1, tests count down from 15.
REDIS_URL = os.environ.get("ANGIE_BENCH_SCALE_REDIS_URL", "redis://127.0.0.1:6379/13")
MYSQL_URL = os.environ.get("ANGIE_BENCH_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306/")
WORKER_SCRIPT = Path(__file__).resolve().parent / "_scale_worker.py"
_TERMINAL = (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED)
_READY_S = 90.0
# A burst's wait: the kill run needs the dead worker's heartbeat to lapse first.
_WAIT_S = 240.0
_ANSWER_S = 10.0


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new, empty MariaDB database for one run, dropped afterwards."""
    server = make_url(MYSQL_URL)
    name = f"angie_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server)
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        await admin.dispose()


def _tree(pid: int) -> list[int]:
    """A process and its live descendants; what is already gone is left out."""
    found = [pid]
    try:
        for thread in Path(f"/proc/{pid}/task").iterdir():
            for child in (thread / "children").read_text().split():
                found += _tree(int(child))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def _pss_kib(pid: int) -> int:
    """PSS of one process and its descendants, in KiB."""
    total = 0
    for member in _tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
    return total


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds of one process and its live descendants."""
    ticks = 0
    for member in _tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            stat = Path(f"/proc/{member}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class Worker:
    """One worker Angie process, in a session of its own so its Hue server goes with it."""

    def __init__(self, database_url: str, data_dir: Path, bridge_host: str, username: str):
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(data_dir),
            "PYDANTIC_AI_NO_BANNER": "1",
            "ANGIE_DATABASE_URL": database_url,
            "ANGIE_REDIS_URL": REDIS_URL,
            "ANGIE_DATA_DIR": str(data_dir),
            "BENCH_HUE_HOST": bridge_host,
            "BENCH_HUE_USERNAME": username,
            "BENCH_THREADS": str(THREADS),
        }
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip() == "ready":
                self._ready.set()

    def wait_ready(self) -> None:
        if not self._ready.wait(_READY_S):
            code = self.process.poll()
            state = "still starting" if code is None else f"exited with {code}"
            raise RuntimeError(
                f"worker {self.process.pid} was not ready in {_READY_S:.0f}s ({state})"
            )

    @property
    def cpu_s(self) -> float:
        return _cpu_s(self.process.pid)

    @property
    def pss_mib(self) -> float:
        return _pss_kib(self.process.pid) / 1024

    def kill(self) -> None:
        """SIGKILL the worker and its Hue server: no clean shutdown, no acks."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        # Whatever of its tree is left (a server it could not stop) goes now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@contextlib.contextmanager
def workers(
    n: int, database_url: str, data_dir: Path, bridge_host: str, user: str
) -> Iterator[list[Worker]]:
    started = [Worker(database_url, data_dir, bridge_host, user) for _ in range(n)]
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            worker.stop()


@dataclass
class Stack:
    daemon: Angie
    database_url: str
    data_dir: Path
    user: int

    async def submit(self, n: int) -> list[int]:
        """Submit ``n`` tool commands at once, SUBMITTERS at a time (one after another the
        daemon's database round trips, not the workers, would set the pace); their task ids."""
        gate = asyncio.Semaphore(SUBMITTERS)

        async def one() -> int:
            async with gate:
                return await self._submit_one()

        return list(await asyncio.gather(*(one() for _ in range(n))))

    async def _submit_one(self) -> int:
        route = await self.daemon.submit(
            NewEvent(
                EventType.MESSAGE,
                source="web",
                user_id=self.user,
                channel=ChannelKind.WEB,
                thread="bench",
                payload={"text": COMMAND},
            )
        )
        if route.task is None:
            raise RuntimeError(f"event {route.event.id} made no task: {COMMAND!r} is a task")
        return route.task.id

    async def terminal(self, ids: list[int]) -> int:
        async with self.daemon.services.database.session() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(Task)
                    .where(Task.id.in_(ids), Task.status.in_(_TERMINAL))
                )
                or 0
            )

    async def wait_terminal(self, ids: list[int], at_least: int | None = None) -> None:
        want = len(ids) if at_least is None else at_least
        deadline = time.monotonic() + _WAIT_S
        while (done := await self.terminal(ids)) < want:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {done} of {len(ids)} tasks were terminal after {_WAIT_S:.0f}s"
                )
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def stack(data_dir: Path, bridge: FakeHueBridge) -> AsyncIterator[Stack]:
    """A fresh database and queue namespace, and the daemon Angie over them."""
    async with fresh_database() as database_url:
        harness.flush_namespace(REDIS_URL)
        settings = AngieSettings(
            _env_file=None,
            database_url=database_url,
            data_dir=data_dir,
            redis_url=REDIS_URL,
            mcp_timeout=20,
        )
        # The daemon takes events and enqueues; it runs no task, so it needs no Hue server.
        daemon = Angie(
            settings,
            role="daemon",
            api=False,
            specs=builtin_specs(["hue"]),
            environ={
                "PATH": os.environ["PATH"],
                "HOME": str(data_dir),
                "ANGIE_HUE_BRIDGE_HOST": bridge.host,
                "ANGIE_HUE_USERNAME": bridge.username,
            },
            model_for=harness.script_model,
            scheduler=False,
        )
        await daemon.start()  # migrates the new database before any worker starts
        try:
            async with daemon.services.database.session() as session:
                user = User(email=f"{uuid.uuid4().hex[:8]}@bench.test", display_name="Bench")
                session.add(user)
                await session.flush()
                user_id = user.id
            yield Stack(daemon, database_url, data_dir, user_id)
        finally:
            await daemon.stop(grace=5)


async def throughput(n: int, data_dir: Path, bridge: FakeHueBridge) -> Burst:
    """A burst of TASKS on ``n`` workers."""
    async with stack(data_dir, bridge) as where:
        with workers(n, where.database_url, data_dir, bridge.host, bridge.username) as running:
            # One task alone first: it creates the person's conversation, which tasks finishing
            # at the same moment would otherwise race to create. Then every worker warms up.
            await where.wait_terminal(await where.submit(1))
            await where.wait_terminal(await where.submit(THREADS * n))
            cpu = sum(w.cpu_s for w in running) + time.process_time()
            started = time.perf_counter()
            ids = await where.submit(TASKS)
            submitted = time.perf_counter() - started
            await where.wait_terminal(ids)
            rate = TASKS / (time.perf_counter() - started)
            cpu = sum(w.cpu_s for w in running) + time.process_time() - cpu
            memory = [w.pss_mib for w in running]
            counts = await settled_counts(where, ids)
    if not counts.clean:
        raise RuntimeError(f"{n} workers lost or doubled work: {counts}")
    return Burst(rate, submitted, cpu / TASKS * 1000, memory)


@dataclass(frozen=True, slots=True)
class Burst:
    """One burst: tasks per second, seconds to submit it, CPU ms per task (the workers with
    their Hue servers and the daemon's process), and each worker tree's PSS in MiB."""

    rate: float
    submitted: float
    cpu_ms: float
    memory: list[float]


@dataclass(frozen=True, slots=True)
class Counts:
    events: int
    tasks: int
    lost: int
    unanswered: list[int]
    doubled: int
    failed: int
    rerun: int
    again: int

    @property
    def clean(self) -> bool:
        return (
            self.lost == 0 and self.doubled == 0 and self.failed == 0 and self.tasks == self.events
        )


async def settled_counts(where: Stack, ids: list[int]) -> Counts:
    """The counts once every answer is written: a worker settles a task, then records its
    answer, so the last tasks of a burst are terminal a moment before they are answered. An
    answer still missing after _ANSWER_S is lost."""
    deadline = time.monotonic() + _ANSWER_S
    counts = await check_counts(where, ids)
    while counts.unanswered and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        counts = await check_counts(where, ids)
    return counts


async def check_counts(where: Stack, ids: list[int]) -> Counts:
    """What the rows say about the burst's tasks: lost (an event without exactly one task, or a
    task without its answer), doubled (a task that answered more than once or an event with more
    than one task), failed; and, for information, tasks run more than once (``attempts`` > 1)
    and list_lights calls made again by a rerun (harmless for a read, counted all the same)."""
    async with where.daemon.services.database.session() as session:
        event_ids = list(await session.scalars(select(Task.event_id).where(Task.id.in_(ids))))
        per_event = dict(
            (
                await session.execute(
                    select(Task.event_id, func.count())
                    .where(Task.event_id.in_([e for e in event_ids if e is not None]))
                    .group_by(Task.event_id)
                )
            ).all()
        )
        events = int(
            await session.scalar(
                select(func.count()).select_from(Event).where(Event.id.in_(per_event))
            )
            or 0
        )
        answers = dict(
            (
                await session.execute(
                    select(Message.task_id, func.count())
                    .where(Message.task_id.in_(ids), Message.role == MessageRole.ASSISTANT)
                    .group_by(Message.task_id)
                )
            ).all()
        )
        calls = dict(
            (
                await session.execute(
                    select(ToolCall.task_id, func.count())
                    .where(ToolCall.task_id.in_(ids))
                    .group_by(ToolCall.task_id)
                )
            ).all()
        )
        statuses = [
            (status, attempts)
            for status, attempts in await session.execute(
                select(Task.status, Task.attempts).where(Task.id.in_(ids))
            )
        ]
    unanswered = [i for i in ids if answers.get(i, 0) == 0]
    lost = sum(1 for e in event_ids if e is None) + len(unanswered)
    doubled = sum(1 for i in ids if answers.get(i, 0) > 1) + sum(
        1 for c in per_event.values() if c > 1
    )
    return Counts(
        events=events,
        tasks=len(ids),
        lost=lost,
        unanswered=unanswered,
        doubled=doubled,
        failed=sum(1 for status, _ in statuses if status is not TaskStatus.SUCCEEDED),
        rerun=sum(1 for _, attempts in statuses if attempts > 1),
        again=sum(max(0, c - 1) for c in calls.values()),
    )


async def kill_one(data_dir: Path, bridge: FakeHueBridge) -> tuple[Counts, float, int]:
    """Two workers; one SIGKILLed a quarter into the burst; the survivor finishes it."""
    async with stack(data_dir, bridge) as where:
        with workers(2, where.database_url, data_dir, bridge.host, bridge.username) as running:
            await where.wait_terminal(await where.submit(1))
            ids = await where.submit(TASKS)
            await where.wait_terminal(ids, at_least=TASKS // 4)
            pending = TASKS - await where.terminal(ids)
            running[0].kill()
            killed = time.perf_counter()
            await where.wait_terminal(ids)
            recovered = time.perf_counter() - killed
            counts = await settled_counts(where, ids)
    return counts, recovered, pending


async def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    # asyncmy warns of alembic's primary key name on every fresh database: noise here.
    logging.getLogger("asyncmy").setLevel(logging.ERROR)
    if not harness.redis_answers(REDIS_URL):
        print("skipped: no Redis answers at", REDIS_URL)
        return 0
    mysql = make_url(MYSQL_URL)
    if not harness.redis_answers(f"redis://{mysql.host or '127.0.0.1'}:{mysql.port or 3306}"):
        print(f"skipped: no MariaDB answers at {mysql.host or '127.0.0.1'}:{mysql.port or 3306}")
        return 0
    print(
        f"{TASKS} tasks a burst, /tool hue.list_lights; {THREADS} threads a worker, each worker "
        f"its own process and Hue server; MariaDB; Redis {REDIS_URL}; {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with harness.hue_bridge() as bridge, tempfile.TemporaryDirectory(prefix="angie-scale-") as tmp:
        data_dir = Path(tmp)
        base: float | None = None
        for n in WORKER_COUNTS:
            burst = await throughput(n, data_dir, bridge)
            base = base or burst.rate
            pss = ", ".join(f"{m:.0f}" for m in burst.memory)
            print(
                f"{n} worker{'s' if n > 1 else ' '}  {burst.rate:6.1f} tasks/s   "
                f"{burst.rate / base:4.2f}x of 1   {burst.cpu_ms:5.1f} ms CPU/task   "
                f"submitted in {burst.submitted:4.1f}s   PSS per worker tree (MiB): {pss}",
                flush=True,
            )
        counts, recovered, pending = await kill_one(data_dir, bridge)
    print(
        f"kill run: 2 workers, one SIGKILLed with {pending} tasks unfinished; all {counts.tasks} "
        f"terminal {recovered:.1f}s after the kill; events {counts.events}, tasks {counts.tasks}, "
        f"failed {counts.failed}, run again {counts.rerun} ({counts.again} calls repeated)"
    )
    print(f"lost {counts.lost}, doubled {counts.doubled}")
    if counts.unanswered:
        print(f"tasks that succeeded but never told the person: {counts.unanswered}")
    if not counts.clean:
        print("FAILED: the kill run lost or doubled work (see the counts above)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
