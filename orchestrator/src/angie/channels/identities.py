"""One person across channels: a platform sender is linked to an Angie account once, by a
pairing code the sender gets in the channel and the person confirms while signed in."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import ChannelIdentity, ChannelKind, ChannelPairing
from angie.errors import Conflict, Invalid, NotFound

__all__ = ("PAIRING_TTL", "Identities", "Pairing")

log = logging.getLogger(__name__)

PAIRING_TTL = timedelta(hours=1)
# An unknown sender writing again within this time gets no second code (no reply storms).
_RESEND_AFTER = timedelta(minutes=2)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Pairing:
    code: str
    expires_in: timedelta


class Identities:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def find(self, kind: ChannelKind, external_id: str) -> ChannelIdentity | None:
        async with self.db.session() as session:
            return await session.scalar(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == kind, ChannelIdentity.external_id == external_id
                )
            )

    async def seen(self, identity_id: int, *, home_thread: str | None) -> None:
        """The person wrote: when, and (a direct message) where to reach them first."""
        values: dict[str, object] = {"last_seen_at": utcnow()}
        async with self.db.session() as session:
            await session.execute(
                update(ChannelIdentity)
                .where(ChannelIdentity.id == identity_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if home_thread is not None:
                await session.execute(
                    update(ChannelIdentity)
                    .where(ChannelIdentity.id == identity_id, ChannelIdentity.home_thread.is_(None))
                    .values(home_thread=home_thread)
                    .execution_options(synchronize_session=False)
                )

    async def pairing(
        self,
        kind: ChannelKind,
        external_id: str,
        *,
        display: str | None,
        setting_id: int,
        home_thread: str,
    ) -> Pairing | None:
        """A new code for an unknown sender (the old one stops working), or None when they got
        one moments ago."""
        now = utcnow()
        for _ in range(5):
            code = f"{secrets.randbelow(10**6):06d}"
            async with self.db.session() as session:
                row = await session.scalar(
                    select(ChannelPairing).where(
                        ChannelPairing.channel == kind, ChannelPairing.external_id == external_id
                    )
                )
                if row is not None and now - row.created_at < _RESEND_AFTER:
                    return None
                if row is None:
                    row = ChannelPairing(channel=kind, external_id=external_id)
                    session.add(row)
                row.display = (display or "")[:255] or None
                row.setting_id = setting_id
                row.home_thread = home_thread
                row.code_hash = _hash(code)
                row.created_at = now
                row.expires_at = now + PAIRING_TTL
                try:
                    await session.flush()
                except IntegrityError:
                    continue  # the same code is out for someone else: draw again
            return Pairing(code, PAIRING_TTL)
        raise Conflict("could not make a pairing code; try again")

    async def link(self, user_id: int, code: str) -> ChannelIdentity:
        """Link the sender who got ``code`` to the person; the code works once."""
        code = code.strip()
        if not code.isdigit() or len(code) != 6:
            raise Invalid("a pairing code is the six digits Angie sent you in the channel")
        async with self.db.session() as session:
            pairing = await session.scalar(
                select(ChannelPairing).where(ChannelPairing.code_hash == _hash(code))
            )
            if pairing is None or pairing.expires_at <= utcnow():
                raise NotFound(
                    "that pairing code is unknown or expired: write to Angie in the channel "
                    "again for a new one"
                )
            taken = await session.scalar(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == pairing.channel,
                    ChannelIdentity.external_id == pairing.external_id,
                )
            )
            if taken is not None:
                await session.delete(pairing)
                raise Conflict(f"that {pairing.channel.value} sender is linked already")
            has_preferred = await session.scalar(
                select(ChannelIdentity.id).where(
                    ChannelIdentity.user_id == user_id, ChannelIdentity.preferred.is_(True)
                )
            )
            identity = ChannelIdentity(
                user_id=user_id,
                channel=pairing.channel,
                external_id=pairing.external_id,
                display=pairing.display,
                verified=True,
                setting_id=pairing.setting_id,
                home_thread=pairing.home_thread,
                # The first channel a person links is where crons and webhooks reach them.
                preferred=has_preferred is None,
                # They wrote to get the code.
                last_seen_at=pairing.created_at,
            )
            session.add(identity)
            await session.delete(pairing)
            await session.flush()
            log.info("user %s linked a %s identity", user_id, pairing.channel.value)
            return identity

    async def of_user(self, user_id: int) -> list[ChannelIdentity]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(ChannelIdentity)
                .where(ChannelIdentity.user_id == user_id)
                .order_by(ChannelIdentity.id)
            )
            return list(rows)

    async def unlink(self, user_id: int, identity_id: int) -> None:
        async with self.db.session() as session:
            gone = await session.execute(
                delete(ChannelIdentity).where(
                    ChannelIdentity.id == identity_id, ChannelIdentity.user_id == user_id
                )
            )
            if not getattr(gone, "rowcount", 0):
                raise NotFound(f"you have no linked identity {identity_id}")

    async def prefer(self, user_id: int, identity_id: int) -> None:
        """Where crons and webhooks reach the person from now on."""
        async with self.db.session() as session:
            found = await session.scalar(
                select(ChannelIdentity.id).where(
                    ChannelIdentity.id == identity_id, ChannelIdentity.user_id == user_id
                )
            )
            if found is None:
                raise NotFound(f"you have no linked identity {identity_id}")
            await session.execute(
                update(ChannelIdentity)
                .where(ChannelIdentity.user_id == user_id)
                .values(preferred=ChannelIdentity.id == identity_id)
                .execution_options(synchronize_session=False)
            )
