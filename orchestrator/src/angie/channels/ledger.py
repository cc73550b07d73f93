"""The delivery ledger: every message Angie sends through a chat channel is a row written
before it is sent (pending → sending → sent | failed). A row is claimed before its send, so it
goes at most once; while a platform is away rows wait with a growing delay and go when it is
back. The retries live here, across restarts, rather than in a retry loop in memory."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import ChannelDelivery, ChannelKind, DeliveryState, OutboundKind

__all__ = ("CHAT_KINDS", "Ledger", "angie_thread", "backoff", "split_thread")

log = logging.getLogger(__name__)

# The channels an adapter runs (the web, the API and the CLI are Angie's own).
CHAT_KINDS = frozenset(
    {ChannelKind.SLACK, ChannelKind.DISCORD, ChannelKind.IMESSAGE, ChannelKind.EMAIL}
)

_FIRST_DELAY = 2.0
_MAX_DELAY = 300.0
# A row that keeps failing for this long is given up (said in the row's error).
GIVE_UP_AFTER = timedelta(days=2)


def angie_thread(setting_id: int, thread: str) -> str:
    """Angie's thread id for an adapter's thread: which settings (adapter) it runs through."""
    return f"{setting_id}:{thread}"


def split_thread(thread: str | None) -> tuple[int, str] | None:
    """The settings id and the adapter's thread of an Angie thread (None: not a channel's)."""
    if not thread:
        return None
    head, sep, rest = thread.partition(":")
    if not sep or not head.isdigit() or not rest:
        return None
    return int(head), rest


def backoff(attempts: int) -> float:
    """Seconds before try ``attempts + 1``: 2, 4, 8, … up to five minutes."""
    return float(min(_MAX_DELAY, _FIRST_DELAY * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class Due:
    """A pending row as the sender needs it."""

    id: int
    setting_id: int
    thread: str
    kind: OutboundKind
    text: str
    mention: str | None
    reply_code: str | None
    updates_platform_id: str | None
    attempts: int
    ready: bool
    created_at_age: timedelta


class Ledger:
    def __init__(self, database: Database) -> None:
        self.db = database

    @staticmethod
    def add(
        session: AsyncSession,
        *,
        user_id: int,
        channel: ChannelKind,
        setting_id: int,
        thread: str,
        kind: OutboundKind,
        text: str,
        mention: str | None = None,
        task_id: int | None = None,
        approval_id: int | None = None,
        updates_id: int | None = None,
    ) -> ChannelDelivery:
        """Write a row in the caller's transaction (with the words it records elsewhere)."""
        row = ChannelDelivery(
            user_id=user_id,
            channel=channel,
            setting_id=setting_id,
            thread=thread[:255],
            kind=kind,
            text=text,
            mention=mention,
            task_id=task_id,
            approval_id=approval_id,
            updates_id=updates_id,
            # A short one-time code for channels without buttons; never the approval's id.
            reply_code=f"{secrets.randbelow(9000) + 1000}"
            if kind is OutboundKind.APPROVAL
            else None,
            state=DeliveryState.PENDING,
            next_attempt_at=utcnow(),
        )
        session.add(row)
        return row

    async def abandon_sending(self, setting_ids: set[int]) -> int:
        """Rows of these channels left ``sending`` by a process that stopped mid-send may have
        reached the platform: they are not sent again (never twice), and say so."""
        if not setting_ids:
            return 0
        async with self.db.session() as session:
            done = await session.execute(
                update(ChannelDelivery)
                .where(
                    ChannelDelivery.state == DeliveryState.SENDING,
                    ChannelDelivery.setting_id.in_(setting_ids),
                )
                .values(
                    state=DeliveryState.FAILED,
                    error="Angie stopped while sending this; not sent again, so it is never "
                    "sent twice",
                )
                .execution_options(synchronize_session=False)
            )
        return int(getattr(done, "rowcount", 0) or 0)

    async def pending(self, setting_ids: set[int], limit: int = 200) -> list[Due]:
        """Pending rows of the running adapters, oldest first; ``ready`` when due now."""
        if not setting_ids:
            return []
        now = utcnow()
        async with self.db.session() as session:
            rows = (
                await session.scalars(
                    select(ChannelDelivery)
                    .where(
                        ChannelDelivery.state == DeliveryState.PENDING,
                        ChannelDelivery.setting_id.in_(setting_ids),
                    )
                    .order_by(ChannelDelivery.id)
                    .limit(limit)
                )
            ).all()
            updates = {r.updates_id for r in rows if r.updates_id is not None}
            platform_ids: dict[int, str | None] = {}
            if updates:
                found = await session.execute(
                    select(ChannelDelivery.id, ChannelDelivery.platform_id).where(
                        ChannelDelivery.id.in_(updates)
                    )
                )
                platform_ids = {row[0]: row[1] for row in found}
            return [
                Due(
                    id=r.id,
                    setting_id=r.setting_id,
                    thread=r.thread,
                    kind=r.kind,
                    text=r.text,
                    mention=r.mention,
                    reply_code=r.reply_code,
                    updates_platform_id=(
                        platform_ids.get(r.updates_id) if r.updates_id is not None else None
                    ),
                    attempts=r.attempts,
                    ready=r.next_attempt_at <= now,
                    created_at_age=now - r.created_at,
                )
                for r in rows
            ]

    async def claim(self, delivery_id: int) -> bool:
        """Take a pending row for sending; False when another sender has it already."""
        async with self.db.session() as session:
            done = await session.execute(
                update(ChannelDelivery)
                .where(
                    ChannelDelivery.id == delivery_id,
                    ChannelDelivery.state == DeliveryState.PENDING,
                )
                .values(state=DeliveryState.SENDING, attempts=ChannelDelivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
        return bool(getattr(done, "rowcount", 0))

    async def sent(self, delivery_id: int, platform_id: str) -> None:
        await self._set(
            delivery_id,
            state=DeliveryState.SENT,
            platform_id=platform_id[:255],
            sent_at=utcnow(),
            error=None,
        )

    async def again(self, delivery_id: int, error: str, delay: float) -> None:
        await self._set(
            delivery_id,
            state=DeliveryState.PENDING,
            error=error[:1000],
            next_attempt_at=utcnow() + timedelta(seconds=delay),
        )

    async def failed(self, delivery_id: int, error: str) -> None:
        await self._set(delivery_id, state=DeliveryState.FAILED, error=error[:1000])

    async def _set(self, delivery_id: int, **values: object) -> None:
        async with self.db.session() as session:
            await session.execute(
                update(ChannelDelivery)
                .where(ChannelDelivery.id == delivery_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
