"""Tasks per second through Angie's queue against plain Dramatiq actors doing the same work.

The work needs no model: one call of ``hue.list_lights`` on the real Hue MCP server (a supervised
subprocess, against the fake bridge), over the MCP session Angie keeps for the server.
Angie's side submits MESSAGE events whose text is the command ``/tool hue.list_lights {}`` and
waits until every result has been delivered to the person; all Angie adds around the call (event
and task rows, claim, the policy check, the audit row, settling, the feedback message) is the
overhead measured. The baseline is a plain ``async`` Dramatiq actor (AsyncIO middleware) on a
broker made like Angie's, with as many worker threads, making the same call over one MCP session
it keeps. Embedded (StubBroker + in-process Worker) and Redis (a daemon and a worker Angie in
this process). CPU per task is this process's (both sides share the Hue server's cost).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import dramatiq
from dramatiq import Broker, Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO
from fastmcp import Client

from angie.db.models import ChannelKind, EventType
from angie.events.router import NewEvent
from angie.feedback import DeliveryKind
from angie.tasks.queue import create_broker

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness

# The default keeps `make bench` short; ANGIE_BENCH_TASKS=500 runs the full size.
TASKS = int(os.environ.get("ANGIE_BENCH_TASKS", "200"))
WARMUP = 20
THREADS = 4
COMMAND = "/tool hue.list_lights {}"
_WAIT_S = 120.0
_QUEUE = "bench_baseline"


class Countdown:
    """Set from any thread once ``n`` things happened; awaited on the loop that made it."""

    def __init__(self, n: int) -> None:
        self._left = n
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self.done = asyncio.Event()

    def tick(self) -> None:
        with self._lock:
            self._left -= 1
            finished = self._left == 0
        if finished:
            self._loop.call_soon_threadsafe(self.done.set)


@dataclass(frozen=True, slots=True)
class Run:
    """A batch of ``n``: wall-clock seconds and this process's CPU seconds (all threads)."""

    n: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.n / self.wall

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.n * 1000


async def _timed(
    n: int, send: Callable[[int], Awaitable[None]], finished: Callable[[], Awaitable[object]]
) -> Run:
    """From the first of ``n`` sends until ``finished`` says all ``n`` are done."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        await send(i)
    async with asyncio.timeout(_WAIT_S):
        await finished()
    return Run(n, time.perf_counter() - wall, time.process_time() - cpu)


async def angie_run(where: harness.Deployment, user: int, n: int) -> Run:
    """Submit ``n`` tool commands; done when every result has reached the person."""
    failures: list[str] = []

    async def send(_i: int) -> None:
        await where.front.submit(
            NewEvent(
                EventType.MESSAGE,
                source="web",
                user_id=user,
                channel=ChannelKind.WEB,
                thread="bench",
                payload={"text": COMMAND},
            )
        )

    async with where.inbox(user) as inbox:

        async def finished() -> None:
            for _ in range(n):
                delivery = await inbox.next()
                if delivery.kind is not DeliveryKind.RESULT or "Sofa lamp" not in delivery.text:
                    failures.append(delivery.text)

        run = await _timed(n, send, finished)
    assert not failures, failures[:3]
    return run


class PlainActor:
    """An ``async`` Dramatiq actor making the same MCP call over one kept MCP session (as Angie
    keeps one per server), on a broker made like Angie's."""

    def __init__(self, where: harness.Deployment) -> None:
        endpoint = where.hue
        self.broker: Broker = (
            StubBroker() if where.queue == "embedded" else create_broker(harness.REDIS_URL)
        )
        self.broker.add_middleware(AsyncIO())
        self._countdown: Countdown | None = None
        self.failures: list[str] = []

        # One MCP session for every call, opened by the first on the actors' event loop.
        self._client: Client[Any] | None = None
        self._opened: asyncio.Task[Client[Any]] | None = None

        async def open_session() -> Client[Any]:
            client = Client(endpoint.url, auth=endpoint.token, timeout=20)
            await client.__aenter__()  # type: ignore[no-untyped-call]
            self._client = client
            return client

        async def session() -> Client[Any]:
            if self._opened is None:  # no await before it is set: one session on this loop
                self._opened = asyncio.ensure_future(open_session())
            return await self._opened

        async def list_lights(_i: int) -> None:
            try:
                client = await session()
                result = await client.call_tool_mcp("list_lights", {})
                if "Sofa lamp" not in str(result.structured_content):
                    self.failures.append(str(result.structured_content)[:200])
            except Exception as err:
                self.failures.append(repr(err))
                raise
            finally:
                assert self._countdown is not None
                self._countdown.tick()

        self.actor: Any = dramatiq.actor(broker=self.broker, queue_name=_QUEUE, max_retries=0)(
            list_lights
        )
        # worker_timeout as Angie's TaskQueue sets it: the same idle polling on Redis.
        self.worker = Worker(
            self.broker, queues={_QUEUE}, worker_threads=THREADS, worker_timeout=250
        )

    async def __aenter__(self) -> Self:
        self.worker.start()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            from dramatiq.asyncio import get_event_loop_thread

            loop_thread = get_event_loop_thread()
            assert loop_thread is not None
            closing = self._client.__aexit__(None, None, None)  # type: ignore[no-untyped-call]
            await asyncio.to_thread(loop_thread.run_coroutine, closing)
        await asyncio.to_thread(self.worker.stop, 5000)
        self.broker.close()

    async def run(self, n: int) -> Run:
        self._countdown = Countdown(n)

        async def send(i: int) -> None:
            self.actor.send(i)

        run = await _timed(n, send, self._countdown.done.wait)
        assert not self.failures, self.failures[:3]
        return run


def report(queue: str, ours: Run, base: Run) -> None:
    print(
        f"{queue:<9} angie {ours.rate:6.1f} tasks/s ({ours.cpu_ms:5.1f} ms CPU/task)"
        f"   plain actor {base.rate:6.1f} tasks/s ({base.cpu_ms:5.1f} ms CPU/task)"
        f"   ratio {ours.rate / base.rate:5.2f}x"
    )


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(
        f"{TASKS} tasks a side after {WARMUP} warm-up, {THREADS} worker threads each, one "
        f"hue.list_lights MCP call per task; SQLite; {os.cpu_count()} cores; aim >= 0.9x"
    )
    with harness.hue_bridge() as bridge:
        for queue in ("embedded", "redis"):
            if queue == "redis" and not harness.redis_answers():
                print("redis     skipped: no Redis answers at", harness.REDIS_URL)
                continue
            async with harness.deployment(queue, bridge, threads=THREADS) as where:
                user = await where.user()
                # One task alone first: it creates the person's conversation, which tasks
                # finishing at the same moment would otherwise race to create.
                await angie_run(where, user, 1)
                await angie_run(where, user, WARMUP)
                async with PlainActor(where) as plain:
                    await plain.run(WARMUP)
                    base = await plain.run(TASKS)
                ours = await angie_run(where, user, TASKS)
            report(queue, ours, base)


if __name__ == "__main__":
    asyncio.run(main())
