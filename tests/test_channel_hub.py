"""Angie's channel hub with a channel in memory: unknown senders get a pairing code and nothing
else, linked ones reach Angie, approvals are decided in the channel by their owner only, and
the delivery ledger sends every reply once, in order, after an outage too. The real hue server
runs against the fake bridge."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import bridge_puts, floor_lamp_on
from channel_support import SECRET, hue_home_angie
from fakes.brain import Brain
from fakes.memory_channel import MemoryChannel, factory
from sqlalchemy import select

from angie.channel_states import ChannelStates
from angie.channels.hub import ChannelHub
from angie.daemon import Angie
from angie.db.base import utcnow
from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.models import (
    ApprovalStatus,
    ChannelDelivery,
    ChannelKind,
    ChannelSetting,
    Conversation,
    DeliveryState,
    Event,
    EventType,
    Message,
    Prompt,
    PromptKind,
    Task,
    TaskStatus,
    User,
)
from angie.errors import NotFound
from angie.events.router import NewEvent
from angie.services import Services

pytestmark = [pytest.mark.slow]


class Home:
    def __init__(self, angie: Angie, slack: MemoryChannel, bridge: FakeHueBridge) -> None:
        self.angie = angie
        self.slack = slack
        self.bridge = bridge

    @property
    def services(self) -> Services:
        return self.angie.services

    async def user(self, name: str = "Sam") -> int:
        async with self.services.database.session() as session:
            user = User(
                email=f"{uuid.uuid4().hex[:8]}@home.test", display_name=name, preferred_name=name
            )
            session.add(user)
            await session.flush()
            return user.id

    async def connect_slack(self, owner: int) -> int:
        """The owner's saved Slack settings; the hub starts its adapter."""
        async with self.services.database.session() as session:
            row = ChannelSetting(user_id=owner, channel=ChannelKind.SLACK, config={})
            session.add(row)
            store = CredentialStore(session, credential_box(SECRET))
            await store.set("channel.slack.bot_token", "xoxb-1234567890", user_id=owner)
            await store.set("channel.slack.app_token", "xapp-1234567890", user_id=owner)
            await session.flush()
            setting_id = row.id
        await self.services.hub.reload()
        assert self.slack.started == 1
        return setting_id

    async def link(self, user_id: int, sender: str) -> None:
        """The sender writes, gets a code, and the person confirms it."""
        before = len(self.slack.sent)
        await self.slack.write(sender, "hello?")
        await self.slack.wait_for("sent", before + 1)
        code = self.slack.sent[-1].text.split("angie channels link ")[1][:6]
        await self.services.hub.identities.link(user_id, code)

    async def settled(self, task_id: int, wanted: set[TaskStatus]) -> Task:
        deadline = time.monotonic() + 30
        while True:
            task = await self.services.tasks.get(task_id)
            assert task is not None
            if task.status in wanted:
                return task
            assert time.monotonic() < deadline, f"task {task_id} stuck in {task.status}"
            await asyncio.sleep(0.05)

    async def last_task(self) -> Task:
        async with self.services.database.session() as session:
            task = await session.scalar(select(Task).order_by(Task.id.desc()).limit(1))
        assert task is not None
        return task

    async def deliveries(self) -> list[ChannelDelivery]:
        async with self.services.database.session() as session:
            return list(await session.scalars(select(ChannelDelivery).order_by(ChannelDelivery.id)))


@pytest.fixture
async def home(database_url: str, data_dir: Path, bridge: FakeHueBridge) -> AsyncIterator[Home]:
    slack = MemoryChannel("slack")
    brain = Brain(plans={"lamp": floor_lamp_on})
    angie = hue_home_angie(database_url, data_dir, bridge, brain, factory({"slack": slack}))
    await angie.start()
    try:
        yield Home(angie, slack, bridge)
    finally:
        await angie.stop(grace=5)


async def test_an_unknown_sender_gets_a_pairing_code_and_nothing_else(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)

    await home.slack.write("T1:U9", "turn on every light", name="Stranger", thread="D9")
    await home.slack.wait_for("sent")

    [reply] = home.slack.sent
    assert reply.thread == "D9"
    assert reply.text.startswith("Hi Stranger, I'm Angie. I don't know you yet")
    assert "angie channels link " in reply.text
    async with home.services.database.session() as session:
        assert list(await session.scalars(select(Event))) == []
        assert list(await session.scalars(select(Task))) == []
    # Writing again moments later gets no second code.
    await home.slack.write("T1:U9", "hello?", thread="D9")
    await asyncio.sleep(0.3)
    assert len(home.slack.sent) == 1


async def test_a_pairing_code_works_once_and_only_as_six_digits(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.slack.write("T1:U9", "hi", thread="D9")
    await home.slack.wait_for("sent")
    code = home.slack.sent[0].text.split("angie channels link ")[1][:6]

    identity = await home.services.hub.identities.link(owner, code)

    assert (identity.channel, identity.external_id) == (ChannelKind.SLACK, "T1:U9")
    assert (identity.home_thread, identity.preferred) == ("D9", True)
    with pytest.raises(NotFound, match="unknown or expired"):
        await home.services.hub.identities.link(owner, code)


async def test_a_linked_person_is_answered_in_the_same_thread_and_mentioned(home: Home) -> None:
    owner = await home.user()
    setting_id = await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    before = len(home.slack.sent)

    await home.slack.write("T1:U1", "what can you do?", thread="C5:1712.01", direct=False)
    await home.slack.wait_for("sent", before + 1)

    reply = home.slack.sent[-1]
    assert (reply.thread, reply.mention) == ("C5:1712.01", "T1:U1")
    task = await home.last_task()
    assert (task.user_id, task.channel) == (owner, ChannelKind.SLACK)
    assert task.thread == f"{setting_id}:C5:1712.01"
    assert reply.text == "Angie heard: what can you do?"


async def test_a_redelivered_message_is_one_task(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")

    await home.slack.write("T1:U1", "what can you do?", message_id="T1:C5:1712.01")
    await home.slack.write("T1:U1", "what can you do?", message_id="T1:C5:1712.01")
    await home.slack.wait_for("sent", 2)

    async with home.services.database.session() as session:
        tasks = list(await session.scalars(select(Task)))
    assert len(tasks) == 1


async def test_approval_in_the_channel_by_its_owner_reaches_the_bridge_once(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")

    await home.slack.write("T1:U1", "hue: turn on the floor lamp", thread="D1")
    await home.slack.wait_for("asks")
    [ask] = home.slack.asks
    assert (ask.thread, ask.mention) == ("D1", "T1:U1")
    assert "hue.set_light" in ask.text
    assert ask.code.isdigit()
    assert len(ask.code) == 4
    assert bridge_puts(home.bridge) == []

    # Someone else pressing the button changes nothing, linked or not.
    assert await home.slack.press("T1:U7", approve=True, ref=ask.ref) is None
    lee = await home.user("Lee")
    await home.link(lee, "T1:U2")
    assert await home.slack.press("T1:U2", approve=True, ref=ask.ref) is None
    assert bridge_puts(home.bridge) == []

    shown = await home.slack.press("T1:U1", approve=True, ref=ask.ref)
    assert shown == "✅ Approved by Sam."
    [row] = [d for d in await home.deliveries() if d.id == int(ask.ref)]
    assert row.approval_id is not None
    approval = await home.services.approvals.get(row.approval_id)
    # The hue agent's task (Angie's own, its parent, then answers in the thread).
    await home.settled(approval.task_id, {TaskStatus.SUCCEEDED})
    await home.slack.wait_for("sent", 3)
    assert [r.path.rsplit("/", 2)[-2] for r in bridge_puts(home.bridge)] == ["2"]
    reply = home.slack.sent[-1]
    assert (reply.thread, reply.mention) == ("D1", "T1:U1")
    assert reply.text.startswith("Angie: done:")
    # Pressing again is refused politely; the lamp is switched once.
    again = await home.slack.press("T1:U1", approve=True, ref=ask.ref)
    assert again is not None
    assert again.startswith("Nothing changed")
    assert len(bridge_puts(home.bridge)) == 1


async def test_a_reply_code_decides_on_channels_without_buttons(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    await home.slack.write("T1:U1", "hue: turn on the floor lamp", thread="D1")
    await home.slack.wait_for("asks")

    assert await home.slack.press("T1:U1", approve=False, code="0000") is None
    shown = await home.slack.press("T1:U1", approve=False, code=home.slack.asks[0].code)

    assert shown == "❌ Denied by Sam."
    [approval] = await home.services.approvals.for_task((await home.last_task()).id)
    assert approval.status is ApprovalStatus.DENIED
    assert bridge_puts(home.bridge) == []


async def test_an_approval_decided_elsewhere_updates_the_channel_message(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    await home.slack.write("T1:U1", "hue: turn on the floor lamp", thread="D1")
    await home.slack.wait_for("asks")
    [approval] = await home.services.approvals.pending(owner)

    await home.services.executor.decide(approval.id, approve=True, user_id=owner)

    await home.slack.wait_for("shown")
    thread, _message_id, text = home.slack.shown[0]
    assert (thread, text) == ("D1", "✅ Approved elsewhere.")


async def test_a_platform_outage_loses_nothing_and_doubles_nothing(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    sent_before = len(home.slack.sent)
    home.slack.down = True

    await home.slack.write("T1:U1", "first", thread="D1")
    await home.slack.write("T1:U1", "second", thread="D2")
    deadline = time.monotonic() + 30
    while home.slack.attempts < 3:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert len(home.slack.sent) == sent_before
    pending = [d for d in await home.deliveries() if d.state is DeliveryState.PENDING]
    assert len(pending) >= 1
    assert all("the platform is down" in (d.error or "") for d in pending if d.attempts)

    home.slack.down = False
    await home.slack.wait_for("sent", sent_before + 2)
    await asyncio.sleep(0.5)
    replies = sorted((r.thread, r.text) for r in home.slack.sent[sent_before:])
    assert replies == [("D1", "Angie heard: first"), ("D2", "Angie heard: second")]
    states = [d.state for d in await home.deliveries()]
    assert states.count(DeliveryState.SENT) == len(home.slack.sent)


async def test_a_refused_message_fails_with_the_platforms_reason(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    home.slack.refused = True

    await home.slack.write("T1:U1", "hello", thread="D1")

    deadline = time.monotonic() + 30
    while not [d for d in await home.deliveries() if d.state is DeliveryState.FAILED]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    failed = [d for d in await home.deliveries() if d.state is DeliveryState.FAILED]
    assert failed[0].error == "the platform refused the message"
    assert failed[0].attempts == 1


async def _proactive(home: Home, owner: int, text: str) -> int:
    """Work nobody started in a chat (as a webhook or a cron would): no channel, no thread."""
    route = await home.services.submit(
        NewEvent(EventType.API, source="test", user_id=owner, payload={"text": text})
    )
    assert route.task is not None
    return route.task.id


async def test_work_started_elsewhere_reaches_the_preferred_channel(home: Home) -> None:
    owner = await home.user()
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    before = len(home.slack.sent)

    await _proactive(home, owner, "the garden report")

    await home.slack.wait_for("sent", before + 1)
    reply = home.slack.sent[-1]
    # Where the person first wrote to Angie (their direct messages), mentioning them.
    assert (reply.thread, reply.mention) == ("dm-1", "T1:U1")
    assert reply.text == "Angie heard: the garden report"


async def test_quiet_hours_hold_work_started_elsewhere_until_they_end(home: Home) -> None:
    owner = await home.user()
    async with home.services.database.session() as session:
        session.add(
            Prompt(
                kind=PromptKind.USER,
                name="schedule",
                user_id=owner,
                body="# Schedule\n\nQuiet hours (no messages unless it is urgent): 00:00 to 23:59.",
            )
        )
    await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    before = len(home.slack.sent)

    task = await home.settled(
        await _proactive(home, owner, "the garden report"), {TaskStatus.SUCCEEDED}
    )

    deadline = time.monotonic() + 10
    while not [d for d in await home.deliveries() if d.task_id == task.id]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    [held] = [d for d in await home.deliveries() if d.task_id == task.id]
    assert held.state is DeliveryState.PENDING
    assert held.next_attempt_at > utcnow()
    await asyncio.sleep(1.5)
    assert len(home.slack.sent) == before
    # What the person asked for in the chat itself is answered at once.
    await home.slack.write("T1:U1", "are you there?", thread="D1")
    await home.slack.wait_for("sent", before + 1)


async def test_continue_here_takes_up_the_latest_conversation(home: Home) -> None:
    owner = await home.user()
    setting_id = await home.connect_slack(owner)
    await home.link(owner, "T1:U1")
    route = await home.services.submit(
        NewEvent(
            EventType.MESSAGE,
            source="web",
            user_id=owner,
            channel=ChannelKind.WEB,
            thread="kitchen",
            payload={"text": "plan the dinner party"},
        )
    )
    assert route.task is not None
    await home.settled(route.task.id, {TaskStatus.SUCCEEDED})
    before = len(home.slack.sent)

    await home.slack.write("T1:U1", "continue here", thread="D1")

    await home.slack.wait_for("sent", before + 1)
    assert home.slack.sent[-1].text == "Picking up our conversation from the web here."
    async with home.services.database.session() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.thread == f"{setting_id}:D1")
        )
        assert conversation is not None
        copied = list(
            await session.scalars(
                select(Message.content)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id)
            )
        )
    assert copied[:2] == ["plan the dinner party", "Angie heard: plan the dinner party"]
    # Nothing was asked of Angie: no task for "continue here".
    async with home.services.database.session() as session:
        tasks = list(await session.scalars(select(Task)))
    assert len(tasks) == 1


async def test_split_processes_run_each_channel_in_exactly_one_of_them(home: Home) -> None:
    """``angie api`` runs the channels that receive by webhook, ``angie daemon`` the ones that
    keep a connection open; ``angie serve`` runs both."""
    owner = await home.user()
    slack_id = await home.connect_slack(owner)
    async with home.services.database.session() as session:
        row = ChannelSetting(
            user_id=owner, channel=ChannelKind.IMESSAGE, config={"server_url": "http://mac.test"}
        )
        session.add(row)
        store = CredentialStore(session, credential_box(SECRET))
        await store.set("channel.imessage.password", "bb-password", user_id=owner)
        await store.set("channel.imessage.webhook_secret", "w" * 24, user_id=owner)
        await session.flush()
        imessage_id = row.id

    def hub() -> ChannelHub:
        channels = {"slack": MemoryChannel("slack"), "imessage": MemoryChannel("imessage")}
        return ChannelHub(
            home.services.database,
            secret_key=lambda: SECRET,
            states=ChannelStates(),
            submit=home.services.submit,
            decide=lambda *_: asyncio.sleep(0),
            factory=factory(channels),
        )

    api, daemon = hub(), hub()
    await api.start("webhooks")
    await daemon.start("connections")
    try:
        assert (api.adapter(imessage_id) is not None, api.adapter(slack_id)) == (True, None)
        assert (daemon.adapter(imessage_id), daemon.adapter(slack_id) is not None) == (None, True)
    finally:
        await api.stop()
        await daemon.stop()


@pytest.mark.redis
async def test_a_reply_a_worker_wrote_wakes_the_daemons_channels(
    database_url: str, data_dir: Path, bridge: FakeHueBridge, redis_url: str
) -> None:
    """Split: the worker writes the reply in the ledger and announces it; the daemon's hub
    hears it on the live bus and sends at once (here it would otherwise wait an hour)."""
    slack = MemoryChannel("slack")
    brain = Brain(plans={"lamp": floor_lamp_on})
    daemon = hue_home_angie(
        database_url, data_dir, bridge, brain, factory({"slack": slack}), redis_url=redis_url
    )
    daemon.role = "daemon"
    worker = hue_home_angie(
        database_url, data_dir, bridge, brain, factory({"slack": slack}), redis_url=redis_url
    )
    worker.role = "worker"
    worker.services.queue.broker.flush_all()
    await daemon.start()
    await worker.start()
    try:
        home = Home(daemon, slack, bridge)
        owner = await home.user()
        await home.connect_slack(owner)
        await home.link(owner, "T1:U1")
        daemon.services.hub.poll = 3600.0
        await asyncio.sleep(1.2)  # the hub's current wait (the old poll) ends

        await slack.write("T1:U1", "are you there?", thread="D1")

        await slack.wait_for("sent", 2)
        assert slack.sent[-1].text == "Angie heard: are you there?"
    finally:
        await worker.stop(grace=5)
        await daemon.stop(grace=5)
