"""The live stream of Angie's work: text as the model writes it, tool calls, approvals, replies
and the end of each task, fanned out to whoever listens for that person, and across processes
through Redis pub/sub when ``angie api`` and ``angie worker`` run apart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from angie.db.engine import Database
from angie.db.models import Task, TaskKind

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = (
    "CHANNEL_PREFIX",
    "LiveBus",
    "LiveEvent",
    "LiveType",
    "Subscription",
)

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "angie:live:"
# Per listener: text deltas stop being queued at QUEUE_SIZE waiting events, anything else at
# QUEUE_LIMIT; ``done`` always gets through, so a listener always learns that a task ended.
QUEUE_SIZE = 256
QUEUE_LIMIT = 1024
_LINEAGE_CACHE = 4096
_RECONNECT_SECONDS = 1.0


class LiveType(StrEnum):
    TASK = "task"
    TEXT = "text"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    APPROVAL = "approval"
    # An approval was answered (approved, denied); ``approval`` is its asking.
    DECISION = "decision"
    REPLY = "reply"
    DONE = "done"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """Something that happened in one task of one person's; ``root_id`` is the top-level task
    it belongs to (a delegation's tool calls show in the chat that asked for them)."""

    type: LiveType
    task_id: int | None
    user_id: int
    data: dict[str, Any] = field(default_factory=dict)
    root_id: int | None = None
    # Whether the top-level task is a conversation with Angie (the chat socket shows those).
    chat: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        """What a client sees: the data, under the top-level task's id (and the sub-task's)."""
        shown: dict[str, Any] = {}
        if self.task_id is not None:
            shown["task_id"] = self.root_id or self.task_id
            if self.root_id not in (None, self.task_id):
                shown["subtask_id"] = self.task_id
        return {**shown, **self.data}

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "task_id": self.task_id,
            "user_id": self.user_id,
            "data": self.data,
            "root_id": self.root_id,
            "chat": self.chat,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LiveEvent:
        return cls(
            LiveType(raw["type"]),
            raw.get("task_id"),
            int(raw["user_id"]),
            dict(raw.get("data") or {}),
            raw.get("root_id"),
            bool(raw.get("chat")),
        )


class Subscription:
    """One listener's queue of a person's events, optionally narrowed to some top-level tasks.

    Narrowing applies to what is read too: a listener subscribes before it submits its task
    (so it misses nothing) and follows the task once it knows its id.
    """

    def __init__(
        self,
        bus: LiveBus,
        user_id: int,
        *,
        chats_only: bool = False,
        size: int = QUEUE_SIZE,
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self.user_id = user_id
        self.chats_only = chats_only
        self.dropped = 0
        self._bus = bus
        self._size = size
        self._limit = max(limit, size)
        self._roots: set[int] | None = None
        self._items: deque[LiveEvent] = deque()
        self._ready = asyncio.Event()
        self._closed = False

    def follow(self, root_id: int) -> None:
        """From now on, only events of this top-level task (and of others followed)."""
        if self._roots is None:
            self._roots = set()
        self._roots.add(root_id)

    def accepts(self, event: LiveEvent) -> bool:
        if self.chats_only and not event.chat:
            return False
        return self._roots is None or event.root_id in self._roots

    def offer(self, event: LiveEvent) -> None:
        if self._closed or not self.accepts(event):
            return
        waiting = len(self._items)
        full = waiting >= self._size if event.type is LiveType.TEXT else waiting >= self._limit
        if full and event.type is not LiveType.DONE:
            # A slow listener loses deltas (the reply repeats the whole text), never the end.
            self.dropped += 1
            return
        self._items.append(event)
        self._ready.set()

    async def next(self, wait: float | None = None) -> LiveEvent | None:
        """The next event, or None when ``wait`` seconds pass without one."""
        try:
            async with asyncio.timeout(wait):
                while True:
                    while self._items:
                        event = self._items.popleft()
                        if self.accepts(event):
                            return event
                    self._ready.clear()
                    await self._ready.wait()
        except TimeoutError:
            return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._items.clear()
            self._bus.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


class LiveBus:
    """Fans each event out to the person's listeners in this process and, with Redis, to the
    listeners of every other process. Publishing never fails a task: live events are a view."""

    def __init__(
        self,
        database: Database | None = None,
        *,
        redis_url: str | None = None,
        prefix: str = CHANNEL_PREFIX,
    ) -> None:
        self._database = database
        self._redis_url = redis_url
        self._prefix = prefix
        self._origin = uuid.uuid4().hex
        self._listeners: dict[int, set[Subscription]] = defaultdict(set)
        # task id → (user id, top-level task id, top-level is a chat); lineage never changes.
        self._lineage: OrderedDict[int, tuple[int | None, int, bool]] = OrderedDict()
        self._redis: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        # Set once the reader has subscribed, or failed to: who subscribes waits for that.
        self._tried = asyncio.Event()
        # Called with every event seen here, from this process or another (the channel hub
        # wakes on replies another process wrote).
        self._observers: list[Callable[[LiveEvent], None]] = []

    # -- listening ---------------------------------------------------------------------------

    async def subscribe(self, user_id: int, *, chats_only: bool = False) -> Subscription:
        """A new listener for the person's events; close it when done."""
        await self._start_reader()
        subscription = Subscription(self, user_id, chats_only=chats_only)
        self._listeners[user_id].add(subscription)
        return subscription

    def observe(self, observer: Callable[[LiveEvent], None]) -> None:
        """Call ``observer`` with every event (it must be quick and must not raise)."""
        self._observers.append(observer)

    async def start(self) -> None:
        """Hear other processes' events from now on (with Redis), not only once someone
        subscribes."""
        await self._start_reader()

    def unsubscribe(self, subscription: Subscription) -> None:
        listeners = self._listeners.get(subscription.user_id)
        if listeners is not None:
            listeners.discard(subscription)
            if not listeners:
                del self._listeners[subscription.user_id]

    def listeners(self, user_id: int) -> int:
        return len(self._listeners.get(user_id, ()))

    # -- publishing --------------------------------------------------------------------------

    async def announce(self, task_id: int, type: LiveType, **data: Any) -> None:
        """Publish an event of a task; its owner and top-level task are read once per task."""
        try:
            user_id, root_id, chat = await self._lineage_of(task_id)
            if user_id is None:
                return  # nobody to tell
            await self.publish(LiveEvent(type, task_id, user_id, data, root_id, chat))
        except Exception:
            log.exception("could not publish the %s event of task %s", type.value, task_id)

    async def publish(self, event: LiveEvent) -> None:
        self._deliver(event)
        if self._redis_url is None:
            return
        message = json.dumps({"origin": self._origin, **event.to_json()}, default=str)
        try:
            await self._client().publish(f"{self._prefix}{event.user_id}", message)
        except Exception as err:
            # Listeners in other processes miss this one; the task itself goes on.
            log.warning("could not publish a live event on Redis: %r", err)

    def _deliver(self, event: LiveEvent) -> None:
        for subscription in list(self._listeners.get(event.user_id, ())):
            subscription.offer(event)
        for observer in self._observers:
            observer(event)

    def remember(self, task: Task) -> None:
        """What a worker read of a task it claimed: its events then need no lookup of their
        owner and top-level task (a sub-task's parent is known once the parent ran here)."""
        if task.id in self._lineage:
            return
        if task.parent_id is None:
            found = (task.user_id, task.id, task.kind is TaskKind.CHAT)
        else:
            parent = self._lineage.get(task.parent_id)
            if parent is None:
                return
            owner = task.user_id if task.user_id is not None else parent[0]
            found = (owner, parent[1], parent[2])
        self._lineage[task.id] = found
        if len(self._lineage) > _LINEAGE_CACHE:
            self._lineage.popitem(last=False)

    async def _lineage_of(self, task_id: int) -> tuple[int | None, int, bool]:
        known = self._lineage.get(task_id)
        if known is not None:
            self._lineage.move_to_end(task_id)
            return known
        if self._database is None:
            raise LookupError("this live bus has no database to find tasks in")
        current: int | None = task_id
        user_id: int | None = None
        root, kind = task_id, TaskKind.CHAT
        async with self._database.session() as session:
            # Delegations nest a level or two; the bound only guards against a corrupt cycle.
            for _ in range(16):
                if current is None:
                    break
                row = (
                    await session.execute(
                        select(Task.user_id, Task.parent_id, Task.kind).where(Task.id == current)
                    )
                ).one_or_none()
                if row is None:
                    if user_id is None:
                        return None, task_id, False  # not there (yet): not remembered
                    break
                root, kind = current, row.kind
                user_id = row.user_id if user_id is None else user_id
                current = row.parent_id
        found = (user_id, root, kind is TaskKind.CHAT)
        self._lineage[task_id] = found
        if len(self._lineage) > _LINEAGE_CACHE:
            self._lineage.popitem(last=False)
        return found

    # -- Redis -------------------------------------------------------------------------------

    def _client(self) -> Redis:
        if self._redis is None:
            from redis.asyncio import Redis

            assert self._redis_url is not None
            self._redis = Redis.from_url(self._redis_url)
        return self._redis

    async def _start_reader(self) -> None:
        """With Redis, read every process's events from the first subscription on."""
        if self._redis_url is None:
            return
        if self._reader is None or self._reader.done():
            self._tried.clear()
            self._reader = asyncio.create_task(self._read(), name="angie-live-reader")
        # Subscribed before returning, so a task submitted next cannot publish unseen; a
        # Redis that does not answer leaves this process's own events working.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._tried.wait()

    async def _read(self) -> None:
        while True:
            pubsub: PubSub = self._client().pubsub()
            try:
                await pubsub.psubscribe(f"{self._prefix}*")
                async for message in pubsub.listen():
                    if message["type"] == "psubscribe":
                        self._tried.set()
                    elif message["type"] == "pmessage":
                        self._received(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self._tried.set()
                log.warning("no live events from Redis (%r); trying again", err)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(_RECONNECT_SECONDS)

    def _received(self, raw: bytes | str) -> None:
        try:
            message = json.loads(raw)
            if message.get("origin") == self._origin:
                return  # delivered here already
            event = LiveEvent.from_json(message)
        except (ValueError, KeyError, TypeError) as err:
            log.warning("ignoring a malformed live event from Redis: %r", err)
            return
        self._deliver(event)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None
