"""Dramatiq carries task ids to workers: the Redis broker in production, an in-process broker
for the embedded default. Messages hold only ids; the database holds the task itself, so a task
accepted before a crash is found again on restart (embedded) or redelivered by Redis."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import dramatiq
import redis
from dramatiq import Broker, Consumer, Message, MessageProxy, Middleware, Worker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import compute_backoff
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import TimeLimit, default_middleware

__all__ = ("QUEUE_NAME", "TaskQueue", "WakingRedisBroker", "create_broker")

log = logging.getLogger(__name__)

QUEUE_NAME = "angie"
# A dead worker's unacked messages go back on the queue once its heartbeat is this old and a
# maintenance pass runs; the consumers of live workers beat about once a second.
REDIS_HEARTBEAT_TIMEOUT_MS = 20_000
# Out of a million broker commands; idle consumers issue about one a second each, so with
# one worker a pass runs every ~10 s and a dead worker's tasks come back within about 30 s.
REDIS_MAINTENANCE_CHANCE = 100_000
# The loop runs agent work; its own limits (usage limits, tool timeouts) bound a task. This
# only stops a wedged worker thread from waiting forever.
_TIME_LIMIT_MS = 6 * 3600 * 1000

# How long an idle consumer waits between polls: Redis picks up a new task within this (at
# once when the task was sent by a broker that wakes consumers, as Angie's does).
_POLL_MS = 50
# The longest a consumer's miss sleeps inside Dramatiq before its wait for a wake-up.
_MISS_MS = 1
# Wake-ups no consumer has taken yet are kept up to this many: each costs a consumer one poll.
_WAKE_BACKLOG = 16
# Dramatiq's own limit on its stop, well past any grace: stop_worker keeps the grace itself.
_STOP_WAIT_MS = 24 * 3600 * 1000

Handler = Callable[[int], Coroutine[Any, Any, None]]


def _middleware() -> list[Middleware]:
    """Dramatiq's defaults but its TimeLimit, whose thread (one per broker) never ends: the
    worker thread keeps its own time limit instead (see ``TaskQueue._run``)."""
    return [m() for m in default_middleware if m is not TimeLimit]


def _in_daemon_thread(fn: Callable[[], object]) -> asyncio.Future[None]:
    """Run ``fn`` on a daemon thread of its own; the future ends with it. Unlike
    ``asyncio.to_thread``, a call that never returns cannot hold the process at exit."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(err: BaseException | None) -> None:
        if done.done():
            return
        if err is None:
            done.set_result(None)
        else:
            done.set_exception(err)

    def run() -> None:
        err: BaseException | None = None
        try:
            fn()
        except BaseException as raised:
            err = raised
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, err)

    threading.Thread(target=run, name="angie-worker-stop", daemon=True).start()
    return done


class WakingRedisBroker(RedisBroker):
    """Dramatiq's Redis broker whose idle consumers are woken by a new message rather than
    finding it at their next poll: a poll every ``worker_timeout`` kept each task waiting half
    of that on average before a worker took it.

    Sending pushes a token on the queue's wake list; a consumer that found nothing and holds no
    message waits on that list (``BLPOP``, at most its idle timeout) instead of sleeping. A token
    nobody is waiting for makes one consumer's next wait end at once: one poll more, never a
    lost message, since the messages themselves stay where Dramatiq keeps them.
    """

    def wake_key(self, queue_name: str) -> str:
        return f"{self.namespace}:{queue_name}.wake"

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        inner = super().consume(queue_name, prefetch, timeout=_MISS_MS)
        return _WokenConsumer(inner, self.client, self.wake_key(queue_name), timeout)

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        sent = super().enqueue(message, delay=delay)
        key = self.wake_key(sent.queue_name)  # the delay queue's, for a delayed message
        with self.client.pipeline(transaction=False) as pipe:
            pipe.lpush(key, 1)
            pipe.ltrim(key, 0, _WAKE_BACKLOG - 1)
            pipe.expire(key, 60)
            pipe.execute()
        return sent


class _WokenConsumer(Consumer):
    """A Redis consumer that, having found nothing and holding nothing, waits for a wake-up
    instead of sleeping."""

    def __init__(self, inner: Consumer, client: redis.Redis, key: str, idle_ms: int) -> None:
        self._inner = inner
        self._client = client
        self._key = key
        self._idle_ms = idle_ms
        self._misses = 0

    def __iter__(self) -> _WokenConsumer:
        return self

    def __next__(self) -> MessageProxy | None:
        message = next(self._inner)
        if message is not None:
            self._misses = 0
        elif getattr(self._inner, "outstanding_message_count", 0) == 0:
            # The queue is empty and this worker idle: the next message wakes it.
            self._misses = 0
            try:
                self._client.blpop([self._key], timeout=self._idle_ms / 1000)
            except redis.ConnectionError as err:
                raise ConnectionClosed(err) from None  # type: ignore[no-untyped-call]
        else:
            # Busy with what it fetched (perhaps all it may prefetch): a slot freed by a worker
            # thread wakes nobody, so poll back off as Dramatiq's consumer does.
            self._misses, backoff_ms = compute_backoff(self._misses, max_backoff=self._idle_ms)
            time.sleep(backoff_ms / 1000)
        return message

    def ack(self, message: MessageProxy) -> None:
        self._inner.ack(message)

    def nack(self, message: MessageProxy) -> None:
        self._inner.nack(message)

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        self._inner.requeue(messages)

    def close(self) -> None:
        self._inner.close()


def create_broker(redis_url: str | None) -> Broker:
    if redis_url:
        return WakingRedisBroker(  # type: ignore[no-untyped-call]
            url=redis_url,
            namespace="angie-tasks",
            heartbeat_timeout=REDIS_HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=REDIS_MAINTENANCE_CHANCE,
            middleware=_middleware(),
        )
    return StubBroker(middleware=_middleware())


class TaskQueue:
    """Send task ids; run them on this process's event loop when it hosts a worker."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._handler: Handler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: Worker | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self.actor = dramatiq.actor(
            broker=broker,
            actor_name="angie_run_task",
            queue_name=QUEUE_NAME,
            # Angie retries by herself: the database knows the attempts, Dramatiq does not.
            max_retries=0,
        )(self._run)

    @property
    def embedded(self) -> bool:
        return isinstance(self.broker, StubBroker)

    def enqueue(self, task_id: int, *, delay_ms: int | None = None) -> None:
        self.actor.send_with_options(args=(task_id,), delay=delay_ms)

    def _run(self, task_id: int) -> None:
        # Dramatiq calls this on a worker thread; the work itself runs on Angie's event loop.
        if self._handler is None or self._loop is None:
            raise RuntimeError("the task queue has no worker bound in this process")
        future = asyncio.run_coroutine_threadsafe(self._tracked(task_id), self._loop)
        deadline = time.monotonic() + _TIME_LIMIT_MS / 1000
        try:
            while True:
                try:
                    future.result(timeout=0.5)
                    return
                except concurrent.futures.TimeoutError:
                    if future.done():
                        future.result()
                        return
                    if time.monotonic() >= deadline:
                        raise TimeoutError(
                            f"task {task_id} ran past the worker's time limit"
                        ) from None
        except BaseException:
            # Interrupted (time limit, shutdown): stop the coroutine too.
            self._loop.call_soon_threadsafe(future.cancel)
            raise

    async def _tracked(self, task_id: int) -> None:
        assert self._handler is not None
        running = asyncio.current_task()
        assert running is not None
        self._running.add(running)
        try:
            await self._handler(task_id)
        finally:
            self._running.discard(running)

    def start_worker(self, handler: Handler, *, threads: int) -> None:
        """Consume the queue on ``threads`` threads, running each task on the current loop."""
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self.broker.emit_after("process_boot")
        self._worker = Worker(
            self.broker, queues={QUEUE_NAME}, worker_threads=threads, worker_timeout=_POLL_MS
        )
        self._worker.start()

    async def stop_worker(self, grace: float = 30.0) -> None:
        """Stop taking tasks and wait up to ``grace`` seconds for the ones running now.

        A task still running after that stays ``running`` in the database: the next start of
        the embedded queue runs it again, and Redis redelivers it to another worker.
        """
        worker, self._worker = self._worker, None
        if worker is None:
            return
        # The grace is kept here, not by Dramatiq: its stop gives each thread's join what is
        # left of the timeout minus all the time spent so far, so with several threads busy
        # the last ones were given nothing and their tasks were stopped halfway.
        stopping = _in_daemon_thread(lambda: worker.stop(_STOP_WAIT_MS))
        await asyncio.wait({stopping}, timeout=grace)
        # Past the grace, the tasks still running are stopped here, before their MCP servers
        # are: each stays ``running`` and runs again, rather than seeing its servers vanish.
        late = [t for t in self._running if not t.done()]
        if late:
            log.warning("stopping %d task(s) still running after %g s", len(late), grace)
            for running in late:
                running.cancel()
            await asyncio.wait(late, timeout=5.0)
        # Their threads end with them; one stuck elsewhere is left behind (a daemon thread,
        # as Dramatiq's are), not waited for.
        await asyncio.wait({stopping}, timeout=5.0)
        if stopping.done() and (err := stopping.exception()) is not None:
            log.warning("the task worker did not stop cleanly: %r", err)

    def close(self) -> None:
        self.broker.close()
