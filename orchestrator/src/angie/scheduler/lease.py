"""The scheduler's lease in the database: which one of several daemons on one database fires.

The holder renews by bumping the row's ``version``; a contender takes the lease once it has
seen the same holder and version for a whole lease period, timed on its own monotonic clock.
No wall clocks are compared, so machines with skewed clocks still agree. Every change is a
compare-and-set on ``version``, so two contenders can never both win: one UPDATE matches the
row, the other matches nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from angie.db.base import utcnow
from angie.db.models import Lease

if TYPE_CHECKING:
    from angie.db.engine import Database

__all__ = ("SCHEDULER_LEASE", "DatabaseLease", "Tenure", "process_identity")

log = logging.getLogger(__name__)

#: The lease's row: one scheduler per database.
SCHEDULER_LEASE = "scheduler"

Monotonic = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Tenure:
    """One attempt's outcome: held until ``until`` (this process's monotonic clock), or not."""

    until: float | None
    holder: str | None

    @property
    def held(self) -> bool:
        return self.until is not None


def process_identity() -> str:
    """host:pid:nonce, unique even when a pid is reused or two containers share one."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(4)}"


class DatabaseLease:
    """A named lease in the ``leases`` table, for this process (``holder``)."""

    def __init__(
        self,
        database: Database,
        name: str = SCHEDULER_LEASE,
        *,
        ttl: float,
        holder: str | None = None,
        clock: Monotonic = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError("a lease needs a positive time to live")
        self._database = database
        self.name = name
        self.ttl = ttl
        self.holder = holder or process_identity()
        self._clock = clock
        # The other holder's (holder, version) as first seen, and when: a lease not renewed
        # for ``ttl`` since then has been given up or its holder is dead.
        self._seen: tuple[str | None, int] | None = None
        self._seen_at = 0.0

    async def hold(self) -> Tenure:
        """Take or renew the lease if this process may; say until when it is held.

        A holder must stop acting on the lease by ``until``: it is counted from before the
        renewal was sent, and a contender counts its wait from after it saw that renewal.
        """
        sent = self._clock()
        async with self._database.session() as session:
            row = (
                await session.execute(
                    select(Lease.holder, Lease.version).where(Lease.name == self.name)
                )
            ).one_or_none()
        seen = self._clock()
        if row is None:
            return await self._create(sent)
        holder, version = row.holder, row.version
        if holder != self.holder and holder is not None:
            if self._seen != (holder, version):
                self._seen, self._seen_at = (holder, version), seen
                return Tenure(None, holder)
            if seen - self._seen_at < self.ttl:
                return Tenure(None, holder)
            log.warning(
                "the %s lease of %s was not renewed for %.0f s; taking it over",
                self.name,
                holder,
                seen - self._seen_at,
            )
        # Ours to renew, released, or expired: one compare-and-set on the version seen.
        async with self._database.session() as session:
            result = await session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.version == version)
                .values(holder=self.holder, version=version + 1, renewed_at=utcnow())
            )
            changed = result.rowcount  # type: ignore[attr-defined]
        if changed != 1:
            return Tenure(None, None)  # someone else moved first; look again next time
        self._seen = None
        return Tenure(sent + self.ttl, self.holder)

    async def release(self) -> None:
        """Give the lease up at once (a clean stop), so a standby need not wait it out."""
        async with self._database.session() as session:
            await session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(holder=None, version=Lease.version + 1, renewed_at=utcnow())
            )

    async def current(self) -> str | None:
        """Who holds the lease according to the table (possibly a dead holder, until expiry)."""
        async with self._database.session() as session:
            return await session.scalar(select(Lease.holder).where(Lease.name == self.name))

    async def _create(self, sent: float) -> Tenure:
        try:
            async with self._database.session() as session:
                session.add(
                    Lease(name=self.name, holder=self.holder, version=1, renewed_at=utcnow())
                )
        except IntegrityError:
            return Tenure(None, None)  # another process created it a moment ago
        return Tenure(sent + self.ttl, self.holder)
