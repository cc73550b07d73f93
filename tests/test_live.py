"""The live event bus: fan-out per person, narrowing to a task, bounded queues that keep the end,
lineage read from the database, and Redis pub/sub between two processes' buses."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import pytest

from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import ChannelKind, Task, TaskKind, TaskStatus, User
from angie.feedback import DeliveryKind, Feedback
from angie.live import LiveBus, LiveEvent, LiveType, Subscription


def event(
    type: LiveType, user: int = 1, root: int = 10, *, chat: bool = True, **data: object
) -> LiveEvent:
    return LiveEvent(type, root, user, dict(data), root_id=root, chat=chat)


async def drain(subscription: Subscription, wait: float = 0.05) -> list[LiveEvent]:
    found = []
    while (item := await subscription.next(wait)) is not None:
        found.append(item)
    return found


async def test_each_listener_of_the_person_gets_the_event_and_nobody_else() -> None:
    bus = LiveBus()
    first, second = await bus.subscribe(1), await bus.subscribe(1)
    stranger = await bus.subscribe(2)

    await bus.publish(event(LiveType.TEXT, delta="Hi"))

    assert [e.data for e in await drain(first)] == [{"delta": "Hi"}]
    assert [e.data for e in await drain(second)] == [{"delta": "Hi"}]
    assert await drain(stranger) == []


async def test_following_a_task_also_sifts_what_came_before_it_was_known() -> None:
    bus = LiveBus()
    with await bus.subscribe(1) as subscription:
        await bus.publish(event(LiveType.TEXT, root=7, delta="other"))
        await bus.publish(event(LiveType.TEXT, root=8, delta="mine"))
        subscription.follow(8)
        await bus.publish(event(LiveType.DONE, root=7, status="succeeded"))
        await bus.publish(event(LiveType.DONE, root=8, status="succeeded"))

        seen = await drain(subscription)

    assert [(e.type, e.root_id) for e in seen] == [(LiveType.TEXT, 8), (LiveType.DONE, 8)]


async def test_chat_listeners_see_only_chats() -> None:
    bus = LiveBus()
    subscription = await bus.subscribe(1, chats_only=True)
    await bus.publish(event(LiveType.TOOL_CALL, root=3, chat=False, tool="set_light"))
    await bus.publish(event(LiveType.TOOL_CALL, root=4, chat=True, tool="list_lights"))
    assert [e.data["tool"] for e in await drain(subscription)] == ["list_lights"]


async def test_a_slow_listener_loses_text_deltas_but_never_the_end() -> None:
    bus = LiveBus()
    subscription = Subscription(bus, 1, size=3, limit=5)
    for n in range(10):
        subscription.offer(event(LiveType.TEXT, delta=str(n)))
    for n in range(4):
        subscription.offer(event(LiveType.TOOL_CALL, tool=f"t{n}"))
    subscription.offer(event(LiveType.DONE, status="succeeded"))

    seen = await drain(subscription)

    assert [e.data.get("delta") for e in seen if e.type is LiveType.TEXT] == ["0", "1", "2"]
    assert [e.data["tool"] for e in seen if e.type is LiveType.TOOL_CALL] == ["t0", "t1"]
    assert seen[-1].type is LiveType.DONE
    assert subscription.dropped == 7 + 2


async def test_a_closed_listener_is_forgotten() -> None:
    bus = LiveBus()
    with await bus.subscribe(1) as subscription:
        assert bus.listeners(1) == 1
    assert bus.listeners(1) == 0
    await bus.publish(event(LiveType.TEXT, delta="late"))
    assert await subscription.next(0.01) is None


def test_the_payload_names_the_top_level_task_and_the_subtask() -> None:
    child = LiveEvent(LiveType.TOOL_CALL, 12, 1, {"tool": "set_light"}, root_id=10, chat=True)
    top = LiveEvent(LiveType.DONE, 10, 1, {"status": "succeeded"}, root_id=10, chat=True)
    loose = LiveEvent(LiveType.ERROR, None, 1, {"message": "bad frame"})
    assert child.payload == {"task_id": 10, "subtask_id": 12, "tool": "set_light"}
    assert top.payload == {"task_id": 10, "status": "succeeded"}
    assert loose.payload == {"message": "bad frame"}


@pytest.fixture
async def database(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    await migrate.upgrade(db.engine)
    try:
        yield db
    finally:
        await db.dispose()


async def add_task(db: Database, kind: TaskKind, user: int | None, parent: int | None) -> int:
    async with db.session() as session:
        task = Task(kind=kind, user_id=user, parent_id=parent, status=TaskStatus.RUNNING)
        session.add(task)
        await session.flush()
        return task.id


async def add_user(db: Database) -> int:
    async with db.session() as session:
        user = User(email=f"{uuid.uuid4().hex[:8]}@home.test", display_name="Sam")
        session.add(user)
        await session.flush()
        return user.id


async def test_a_delegated_task_announces_under_the_chat_that_asked(database: Database) -> None:
    bus = LiveBus(database)
    user = await add_user(database)
    chat = await add_task(database, TaskKind.CHAT, user, None)
    child = await add_task(database, TaskKind.AGENT, user, chat)
    subscription = await bus.subscribe(user, chats_only=True)
    subscription.follow(chat)

    await bus.announce(child, LiveType.TOOL_CALL, server="hue", tool="set_light")

    [seen] = await drain(subscription)
    assert (seen.task_id, seen.root_id, seen.user_id, seen.chat) == (child, chat, user, True)
    assert seen.payload["subtask_id"] == child


async def test_tasks_of_nobody_and_unknown_tasks_announce_nothing(database: Database) -> None:
    bus = LiveBus(database)
    user = await add_user(database)
    subscription = await bus.subscribe(user)
    orphan = await add_task(database, TaskKind.AGENT, None, None)

    await bus.announce(orphan, LiveType.TEXT, delta="to nobody")
    await bus.announce(999_999, LiveType.TEXT, delta="to nobody either")

    assert await drain(subscription) == []


async def test_feedback_announces_the_reply_and_the_end_of_a_task(database: Database) -> None:
    bus = LiveBus(database)
    feedback = Feedback(database, live=bus)
    user = await add_user(database)
    asked = await add_task(database, TaskKind.CHAT, user, None)
    failed = await add_task(database, TaskKind.CHAT, user, None)
    subscription = await bus.subscribe(user)

    for kind, task, text in (
        (DeliveryKind.APPROVAL_REQUEST, asked, "May I?"),
        (DeliveryKind.RESULT, asked, "Done."),
        (DeliveryKind.FAILURE, failed, "I could not."),
    ):
        await feedback.send(
            kind, user_id=user, channel=ChannelKind.WEB, thread="t", text=text, task_id=task
        )

    seen = [(e.type, e.task_id, e.data) for e in await drain(subscription)]
    assert seen == [
        (LiveType.REPLY, asked, {"text": "@Sam May I?", "kind": "approval_request"}),
        (LiveType.REPLY, asked, {"text": "Done.", "kind": "result"}),
        (LiveType.DONE, asked, {"status": "succeeded"}),
        (LiveType.REPLY, failed, {"text": "@Sam I could not.", "kind": "failure"}),
        (LiveType.DONE, failed, {"status": "failed"}),
    ]


@pytest.mark.redis
async def test_events_cross_processes_through_redis(redis_url: str) -> None:
    prefix = f"angie-test:{uuid.uuid4().hex[:8]}:"
    worker, api = (
        LiveBus(redis_url=redis_url, prefix=prefix),
        LiveBus(redis_url=redis_url, prefix=prefix),
    )
    try:
        remote = await api.subscribe(1)
        local = await worker.subscribe(1)
        other = await api.subscribe(2)

        await worker.publish(event(LiveType.TOOL_CALL, tool="set_light", arguments={"on": True}))
        await worker.publish(event(LiveType.DONE, status="succeeded"))

        got = [await remote.next(5), await remote.next(5)]
        assert [(e.type, e.data) for e in got if e is not None] == [
            (LiveType.TOOL_CALL, {"tool": "set_light", "arguments": {"on": True}}),
            (LiveType.DONE, {"status": "succeeded"}),
        ]
        assert got[0] is not None
        assert (got[0].root_id, got[0].chat) == (10, True)
        # The publisher's own listeners hear it once, not again as an echo from Redis.
        assert [e.type for e in await drain(local, 0.3)] == [LiveType.TOOL_CALL, LiveType.DONE]
        assert await drain(other, 0.1) == []
    finally:
        await worker.aclose()
        await api.aclose()


async def test_an_unreachable_redis_leaves_local_events_working() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bus = LiveBus(redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        subscription = await bus.subscribe(1)
        await bus.publish(event(LiveType.REPLY, text="Still here"))
        assert [e.data["text"] for e in await drain(subscription)] == ["Still here"]
    finally:
        await bus.aclose()
