"""The embedded task queue: a worker that stops leaves no thread behind, and a task that runs
past the worker's time limit is stopped, its coroutine cancelled."""

from __future__ import annotations

import asyncio
import threading

import pytest

from angie.tasks import queue as task_queue
from angie.tasks.queue import TaskQueue, create_broker


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
