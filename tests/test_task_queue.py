"""The task queue: a worker that stops leaves no thread behind, and a task that runs past the
worker's time limit is stopped, its coroutine cancelled; over Redis, a new task wakes an idle
consumer instead of waiting for its next poll."""

from __future__ import annotations

import asyncio
import threading
import uuid

import dramatiq
import pytest

from angie.tasks import queue as task_queue
from angie.tasks.queue import TaskQueue, WakingRedisBroker, create_broker


def _threads() -> set[int]:
    """Dramatiq's threads (its workers', consumers' and middleware's) alive now."""
    return {
        t.ident
        for t in threading.enumerate()
        if t.ident is not None and type(t).__module__.startswith("dramatiq")
    }


async def test_workers_that_stop_leave_no_thread_behind() -> None:
    before = _threads()
    ran: list[int] = []

    for task_id in range(5):
        done = asyncio.Event()

        async def handler(task_id: int, done: asyncio.Event = done) -> None:
            ran.append(task_id)
            done.set()

        tasks = TaskQueue(create_broker(None))
        tasks.start_worker(handler, threads=2)
        tasks.enqueue(task_id)
        async with asyncio.timeout(10):
            await done.wait()
        await tasks.stop_worker(grace=1)
        tasks.close()

    assert ran == [0, 1, 2, 3, 4]
    # Dramatiq's own threads end with the worker (its TimeLimit thread would not).
    left = await asyncio.to_thread(_settled, before)
    assert left == set(), [t.name for t in threading.enumerate() if t.ident in left]


def _settled(before: set[int], seconds: float = 10) -> set[int]:
    """The threads started since ``before`` still alive after up to ``seconds``."""
    for thread in threading.enumerate():
        if thread.ident in _threads() - before:
            thread.join(seconds)
    return _threads() - before


async def test_a_task_past_the_time_limit_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_queue, "_TIME_LIMIT_MS", 300)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def wedged(_task_id: int) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    tasks = TaskQueue(create_broker(None))
    tasks.start_worker(wedged, threads=1)
    try:
        tasks.enqueue(1)
        async with asyncio.timeout(10):
            await started.wait()
            await cancelled.wait()
    finally:
        await tasks.stop_worker(grace=1)
        tasks.close()


async def test_every_running_task_gets_the_whole_grace() -> None:
    """Tasks on several threads, ending one after the other, all finish within the grace: it is one
    deadline for all of them, not shortened again by each thread's task that ended first."""
    started: set[int] = set()
    all_started = asyncio.Event()
    finished: list[int] = []
    cancelled: list[int] = []

    async def handler(task_id: int) -> None:
        started.add(task_id)
        if len(started) == 6:
            all_started.set()
        try:
            await asyncio.sleep(0.3 * task_id)
        except asyncio.CancelledError:
            cancelled.append(task_id)
            raise
        finished.append(task_id)

    tasks = TaskQueue(create_broker(None))
    tasks.start_worker(handler, threads=6)
    for task_id in range(1, 7):
        tasks.enqueue(task_id)
    async with asyncio.timeout(10):
        await all_started.wait()
    await tasks.stop_worker(grace=2.4)  # the last ends 1.8 s after it started
    assert (sorted(finished), cancelled) == ([1, 2, 3, 4, 5, 6], [])


async def test_a_task_still_running_after_the_grace_is_stopped() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(_task_id: int) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    before = _threads()
    tasks = TaskQueue(create_broker(None))
    tasks.start_worker(slow, threads=1)
    tasks.enqueue(1)
    async with asyncio.timeout(10):
        await started.wait()
    loop = asyncio.get_running_loop()
    began = loop.time()
    await tasks.stop_worker(grace=0.5)
    assert cancelled.is_set()
    assert 0.5 <= loop.time() - began < 5
    assert _settled(before) == set()


def test_a_new_task_wakes_an_idle_redis_consumer_at_once(redis_url: str) -> None:
    broker = create_broker(redis_url)
    assert isinstance(broker, WakingRedisBroker)
    queue = f"wake-{uuid.uuid4().hex[:8]}"

    @dramatiq.actor(broker=broker, queue_name=queue, max_retries=0)
    def ping() -> None:
        """Nothing: only its message is looked at."""

    # A consumer whose idle timeout is 30 s, as a worker with worker_timeout=30_000 makes.
    consumer = broker.consume(queue, prefetch=1, timeout=30_000)
    waiting = threading.Thread(target=lambda: next(consumer))
    try:
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # it found nothing and waits, rather than polling again
        ping.send()
        waiting.join(10)
        assert not waiting.is_alive(), "the new task did not wake the consumer"
        message = next(consumer)  # woken, its next fetch finds the task
        assert message is not None
        assert message.actor_name == "ping"
        consumer.ack(message)
    finally:
        broker.client.lpush(broker.wake_key(queue), 1)  # a wait still going ends
        waiting.join(10)
        consumer.close()
        broker.client.delete(broker.wake_key(queue))
        broker.close()


def test_a_redis_consumer_holding_a_task_polls_rather_than_waiting_to_be_woken(
    redis_url: str,
) -> None:
    # A worker that fetched all it may prefetch is woken by nothing when a worker thread frees a
    # slot: it must come back to fetch on its own, as Dramatiq's consumer does.
    broker = create_broker(redis_url)
    assert isinstance(broker, WakingRedisBroker)
    queue = f"busy-{uuid.uuid4().hex[:8]}"

    @dramatiq.actor(broker=broker, queue_name=queue, max_retries=0)
    def ping() -> None:
        """Nothing: only its messages are looked at."""

    ping.send()
    ping.send()
    consumer = broker.consume(queue, prefetch=1, timeout=30_000)
    try:
        held = next(consumer)
        assert held is not None
        broker.client.delete(broker.wake_key(queue))  # no token left to end a wait early
        again = threading.Thread(target=lambda: next(consumer))
        again.start()
        again.join(5)
        assert not again.is_alive(), "a consumer holding a task waited to be woken"
        consumer.ack(held)
        second = next(consumer)
        assert second is not None
        consumer.ack(second)
    finally:
        broker.client.lpush(broker.wake_key(queue), 1)
        consumer.close()
        broker.client.delete(broker.wake_key(queue))
        broker.close()
