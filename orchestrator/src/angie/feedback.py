"""Feedback: results, failures and approval requests go back to the person, through the channel
the work came from. Channel adapters plug in behind one protocol; the web/API channel is first."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from angie.channels.ledger import CHAT_KINDS, Ledger, split_thread
from angie.channels.quiet import quiet_hours_of
from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import (
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Message,
    MessageRole,
    OutboundKind,
    TaskStatus,
    User,
)
from angie.live import LiveBus, LiveType

__all__ = (
    "Channel",
    "Delivery",
    "DeliveryKind",
    "Feedback",
    "WebChannel",
    "Written",
    "conversation_for",
)

log = logging.getLogger(__name__)


class DeliveryKind(StrEnum):
    RESULT = "result"
    FAILURE = "failure"
    APPROVAL_REQUEST = "approval_request"
    # Angie speaking first, about no task: a sign-in about to expire.
    NOTICE = "notice"


@dataclass(frozen=True, slots=True)
class Delivery:
    kind: DeliveryKind
    user_id: int
    channel: ChannelKind
    thread: str
    text: str
    task_id: int | None = None
    approval_id: int | None = None
    # Where Angie needs the person (an approval, a failure) she @-mentions them.
    mention: str | None = None

    @property
    def rendered(self) -> str:
        return f"@{self.mention} {self.text}" if self.mention else self.text


class Channel(Protocol):
    """A way back to the person: Slack, Discord, iMessage, email, the web UI."""

    kind: ChannelKind

    async def deliver(self, delivery: Delivery) -> None: ...


@dataclass
class WebChannel:
    """The web UI, the API and the CLI: deliveries are kept in the conversation (so they are
    there when the person looks) and pushed live to whoever is listening for that user."""

    kind: ChannelKind = ChannelKind.WEB
    _listeners: dict[int, set[asyncio.Queue[Delivery]]] = field(
        default_factory=lambda: defaultdict(set)
    )

    async def deliver(self, delivery: Delivery) -> None:
        for queue in list(self._listeners.get(delivery.user_id, ())):
            queue.put_nowait(delivery)

    async def listen(self, user_id: int) -> AsyncIterator[Delivery]:
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._listeners[user_id].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners[user_id].discard(queue)


@dataclass(frozen=True, slots=True)
class Written:
    """A message recorded in the person's conversation, not yet pushed; ``queued`` when a chat
    channel's ledger row was written for it."""

    delivery: Delivery
    queued: bool


class Feedback:
    def __init__(
        self,
        database: Database,
        channels: list[Channel] | None = None,
        *,
        live: LiveBus | None = None,
    ) -> None:
        self.db = database
        self.live = live
        self.web = WebChannel()
        self.channels: dict[ChannelKind, Channel] = {c.kind: c for c in channels or []}
        for kind in (ChannelKind.WEB, ChannelKind.API, ChannelKind.CLI):
            self.channels.setdefault(kind, self.web)
        # Called once a chat channel's message is in the delivery ledger (the channel hub, in
        # the process that runs it; elsewhere the hub finds the row within a second).
        self.on_ledger: Callable[[], None] | None = None

    async def send(
        self,
        kind: DeliveryKind,
        *,
        user_id: int | None,
        channel: ChannelKind | None,
        thread: str | None,
        text: str,
        task_id: int | None = None,
        approval_id: int | None = None,
        tainted_by: str | None = None,
    ) -> Delivery | None:
        """Record the message in the person's conversation and push it through the channel;
        ``tainted_by`` marks words written after reading outside content, so memory reads them
        back fenced."""
        if user_id is None:
            log.info("task %s has nobody to tell: %s", task_id, kind.value)
            return None
        async with self.db.session() as session:
            written = await self.record(
                session,
                kind,
                user_id=user_id,
                channel=channel,
                thread=thread,
                text=text,
                task_id=task_id,
                approval_id=approval_id,
                tainted_by=tainted_by,
            )
        if written is None:
            return None
        await self.push(written)
        return written.delivery

    async def record(
        self,
        session: AsyncSession,
        kind: DeliveryKind,
        *,
        user_id: int,
        channel: ChannelKind | None,
        thread: str | None,
        text: str,
        task_id: int | None = None,
        approval_id: int | None = None,
        tainted_by: str | None = None,
        conversation_id: int | None = None,
    ) -> Written | None:
        """Write the message (and a chat channel's ledger row) in the caller's transaction, so
        it commits with whatever the caller settles; ``push`` it once that has committed. None
        when the person is gone. ``conversation_id``: the person's conversation on that
        channel and thread, when the caller found it already."""
        asked_for = channel
        channel = channel or ChannelKind.WEB
        mention = None
        if conversation_id is None:
            found = await _existing_conversation(session, user_id, channel, thread or "")
            conversation_id = found.id if found is not None else None
        # A result names nobody: the person is read only to be named, or when the
        # conversation is new (whoever it is for must exist).
        if kind is not DeliveryKind.RESULT or conversation_id is None:
            user = await session.get(User, user_id)
            if user is None:
                return None
            if kind is not DeliveryKind.RESULT:
                mention = user.preferred_name or user.display_name
        if conversation_id is None:
            conversation_id = (await conversation_for(session, user_id, channel, thread or "")).id
        delivery = Delivery(
            kind, user_id, channel, thread or "", text, task_id, approval_id, mention
        )
        session.add(
            Message(
                conversation_id=conversation_id,
                role=MessageRole.ASSISTANT,
                content=delivery.rendered,
                task_id=task_id,
                tainted_by=tainted_by,
            )
        )
        queued = await _to_ledger(session, delivery, asked_for)
        return Written(delivery, queued)

    async def push(self, written: Written) -> None:
        """Send a recorded message on its way: the channel, and the live stream."""
        delivery = written.delivery
        if written.queued and self.on_ledger is not None:
            self.on_ledger()
        target = self.channels.get(delivery.channel, self.web)
        try:
            await target.deliver(delivery)
        except Exception:
            # The words are in the conversation already; a flaky chat platform loses nothing.
            log.exception(
                "delivery through %s failed for task %s", delivery.channel.value, delivery.task_id
            )
        if self.live is not None and delivery.task_id is not None:
            await _announce(self.live, delivery, delivery.task_id)

    async def answered(self, task_id: int, *, since: datetime) -> bool:
        """Whether Angie has written to the person about ``task_id`` since ``since`` (its
        answer, once it settled)."""
        async with self.db.session() as session:
            found = await session.scalar(
                select(Message.id)
                .where(
                    Message.task_id == task_id,
                    Message.role == MessageRole.ASSISTANT,
                    Message.created_at >= since,
                )
                .limit(1)
            )
        return found is not None


async def _to_ledger(
    session: AsyncSession, delivery: Delivery, asked_for: ChannelKind | None
) -> bool:
    """Write the delivery ledger's row for a chat channel: the thread's own channel, or for
    work nobody started in a chat (a cron, a webhook) the channel the person prefers."""
    kind = (
        OutboundKind.APPROVAL
        if delivery.kind is DeliveryKind.APPROVAL_REQUEST
        else OutboundKind.MESSAGE
    )
    where = split_thread(delivery.thread) if delivery.channel in CHAT_KINDS else None
    hold: datetime | None = None
    if where is not None:
        setting_id, thread = where
        identity = await session.scalar(
            select(ChannelIdentity)
            .where(
                ChannelIdentity.user_id == delivery.user_id,
                ChannelIdentity.channel == delivery.channel,
            )
            .order_by((ChannelIdentity.setting_id == setting_id).desc(), ChannelIdentity.id)
            .limit(1)
        )
    elif asked_for is None:
        identity = await session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.user_id == delivery.user_id,
                ChannelIdentity.preferred.is_(True),
                ChannelIdentity.setting_id.is_not(None),
                ChannelIdentity.home_thread.is_not(None),
            )
        )
        if identity is None or identity.setting_id is None or identity.home_thread is None:
            return False
        setting_id, thread = identity.setting_id, identity.home_thread
        if kind is OutboundKind.MESSAGE:
            # Nobody waits for this one: it keeps the person's quiet hours.
            quiet = await quiet_hours_of(session, delivery.user_id)
            hold = quiet.until(utcnow()) if quiet is not None else None
    else:
        return False
    row = Ledger.add(
        session,
        user_id=delivery.user_id,
        channel=delivery.channel if where is not None or identity is None else identity.channel,
        setting_id=setting_id,
        thread=thread,
        kind=kind,
        text=delivery.text,
        mention=identity.external_id if identity is not None else None,
        task_id=delivery.task_id,
        approval_id=delivery.approval_id,
    )
    if hold is not None:
        row.next_attempt_at = hold
    return True


async def _announce(live: LiveBus, delivery: Delivery, task_id: int) -> None:
    """The reply on the live stream; a result or failure (only a top-level task's are sent)
    also ends the task's stream."""
    await live.announce(
        task_id,
        LiveType.REPLY,
        text=delivery.rendered,
        kind=delivery.kind.value,
        **({"approval_id": delivery.approval_id} if delivery.approval_id else {}),
    )
    if delivery.kind is not DeliveryKind.APPROVAL_REQUEST:
        ok = delivery.kind is DeliveryKind.RESULT
        status = TaskStatus.SUCCEEDED if ok else TaskStatus.FAILED
        await live.announce(task_id, LiveType.DONE, status=status.value)


async def _existing_conversation(
    session: AsyncSession, user_id: int, channel: ChannelKind, thread: str
) -> Conversation | None:
    return (
        await session.scalars(
            select(Conversation).where(
                Conversation.user_id == user_id,
                Conversation.channel == channel,
                Conversation.thread == thread,
            )
        )
    ).one_or_none()


async def conversation_for(
    session: AsyncSession, user_id: int, channel: ChannelKind, thread: str
) -> Conversation:
    """The person's conversation on that channel and thread, created on first use."""
    found = await _existing_conversation(session, user_id, channel, thread)
    if found is not None:
        return found
    created = Conversation(user_id=user_id, channel=channel, thread=thread)
    try:
        async with session.begin_nested():
            session.add(created)
    except IntegrityError:
        # Two tasks of the same thread finished at once: the other one created it. A locking
        # read sees it even under MySQL's repeatable read, whose snapshot predates it.
        return (
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.user_id == user_id,
                    Conversation.channel == channel,
                    Conversation.thread == thread,
                )
                .with_for_update(read=True)
            )
        ).one()
    return created
