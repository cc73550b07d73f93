"""Tasks per second through Angie's queue against plain Dramatiq actors doing the same work.

The work needs no model: one call of ``hue.list_lights`` on the real Hue MCP server (a supervised
subprocess, against the fake bridge), over a fresh MCP session as Angie's direct calls make it.
Angie's side submits MESSAGE events whose text is the ``/tool hue.list_lights {}`` command and
waits until every result has been delivered to the person; everything Angie adds around the call
(event and task rows, claim, the policy check and its tool listing, the audit row, settling, the
feedback message) is the overhead measured. The baseline is a plain ``async`` Dramatiq actor (the
AsyncIO middleware) on a broker made like Angie's, with as many worker threads, that opens the
same MCP session and makes the same call. Embedded (StubBroker + in-process Worker) and Redis.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable

import dramatiq
from _angie_harness import REDIS_URL, Deployment, deployment, hue_bridge, redis_answers
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO
from fastmcp import Client

from angie.db.models import ChannelKind, EventType
from angie.events.router import NewEvent
from angie.feedback import DeliveryKind
from angie.tasks.queue import create_broker

TASKS = int(os.environ.get("ANGIE_BENCH_TASKS", "500"))
WARMUP = 20
THREADS = 4
COMMAND = "/tool hue.list_lights {}"
_WAIT_S = 120.0


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


async def _timed(n: int, send: Callable[[int], Awaitable[None]], done: asyncio.Event) -> float:
    start = time.perf_counter()
    for i in range(n):
        await send(i)
    await asyncio.wait_for(done.wait(), _WAIT_S)
    return time.perf_counter() - start


async def angie_run(where: Deployment, user: int, n: int) -> float:
    """Seconds to submit ``n`` tool commands and have every result delivered."""
    countdown = Countdown(n)
    failures: list[str] = []

    async def listen() -> None:
        async for delivery in where.back.feedback.web.listen(user):
            if delivery.kind is not DeliveryKind.RESULT or "Sofa lamp" not in delivery.text:
                failures.append(delivery.text)
            countdown.tick()

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)  # subscribed before the first task can finish

    async def send(i: int) -> None:
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

    try:
        return await _timed(n, send, countdown.done)
    finally:
        listener.cancel()
        assert not failures, failures[:3]


async def baseline_run(where: Deployment, n: int, warmup: int) -> tuple[float, float]:
    """(warm-up seconds, seconds) for a plain actor making the same call, same broker kind."""
    endpoint = where.hue
    broker = StubBroker() if where.queue == "embedded" else create_broker(REDIS_URL)
    broker.add_middleware(AsyncIO())
    state: dict[str, Countdown] = {}

    async def list_lights(_i: int) -> None:
        async with Client(endpoint.url, auth=endpoint.token, timeout=20) as client:
            result = await client.call_tool("list_lights", {})
        assert "Sofa lamp" in str(result.structured_content)
        state["countdown"].tick()

    actor = dramatiq.actor(broker=broker, queue_name="bench_baseline", max_retries=0)(list_lights)
    worker = Worker(broker, queues={"bench_baseline"}, worker_threads=THREADS, worker_timeout=250)
    worker.start()
    try:
        times = []
        for count in (warmup, n):
            state["countdown"] = Countdown(count)

            async def send(i: int) -> None:
                actor.send(i)

            times.append(await _timed(count, send, state["countdown"].done))
    finally:
        await asyncio.to_thread(worker.stop, 5000)
        broker.close()
    return times[0], times[1]


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(
        f"{TASKS} tasks each (after {WARMUP} warm-up), {THREADS} worker threads, "
        f"one hue.list_lights MCP call per task; SQLite; {os.cpu_count()} cores"
    )
    with hue_bridge() as bridge:
        for queue in ("embedded", "redis"):
            if queue == "redis" and not redis_answers():
                print("redis: skipped, no Redis answers")
                continue
            async with deployment(queue, bridge, threads=THREADS) as where:
                user = await where.user()
                await angie_run(where, user, WARMUP)
                base_time = (await baseline_run(where, TASKS, WARMUP))[1]
                angie_time = await angie_run(where, user, TASKS)
            ours, base = TASKS / angie_time, TASKS / base_time
            print(
                f"{queue:<9} angie {ours:7.1f} tasks/s   plain dramatiq actor {base:7.1f} tasks/s"
                f"   ratio {ours / base:5.2f}x   (aim >= 0.8x)"
            )


if __name__ == "__main__":
    asyncio.run(main())
