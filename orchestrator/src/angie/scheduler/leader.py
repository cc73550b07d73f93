"""Exactly one scheduler among several daemons: the process holding the lease fires the crons.

Every daemon (and ``angie serve``) runs a :class:`SchedulerLeader`. It tries the lease at start
and then every ``renew_every`` seconds. The holder runs the scheduler and renews; the others
wait on standby and take over once the holder has not renewed for a lease period. A holder
that cannot renew in time stops firing at its lease's end, even while the renewal still hangs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy.exc import SQLAlchemyError

from angie.scheduler.lease import Tenure

if TYPE_CHECKING:
    from angie.scheduler.runner import Guard

__all__ = ("Firing", "LeaderState", "SchedulerLeader", "SchedulerLease")

log = logging.getLogger(__name__)

LeaderState = Literal["leader", "standby", "stopped"]


class Firing(Protocol):
    """What the leader starts and stops: :class:`angie.scheduler.Scheduler`."""

    @property
    def running(self) -> bool: ...

    async def start(self, *, guard: Guard | None = None) -> None: ...

    async def shutdown(self) -> None: ...


class SchedulerLease(Protocol):
    holder: str
    ttl: float

    async def hold(self) -> Tenure: ...

    async def release(self) -> None: ...


class SchedulerLeader:
    """Runs ``scheduler`` while this process holds ``lease``; stops it the moment it does not."""

    def __init__(
        self,
        scheduler: Firing,
        lease: SchedulerLease,
        *,
        renew_every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew_every < lease.ttl:
            raise ValueError("the lease must be renewed more often than it lasts")
        self._scheduler = scheduler
        self._lease = lease
        self._every = renew_every
        self._clock = clock
        self._until: float | None = None
        self._other: str | None = None
        self._loop: asyncio.Task[None] | None = None
        self._state: LeaderState = "stopped"

    @property
    def state(self) -> LeaderState:
        return self._state

    @property
    def holder(self) -> str:
        """This process, as the lease names it."""
        return self._lease.holder

    def may_fire(self) -> bool:
        """Whether a tick may fire now: the lease is held and not past its end."""
        return self._unexpired(self._until)

    async def start(self) -> None:
        """Try the lease once now (a lone daemon fires from the start), then keep trying."""
        if self._loop is not None:
            raise RuntimeError("the scheduler leader is already running")
        self._state = "standby"
        await self.step()
        self._loop = asyncio.create_task(self._forever(), name="angie-scheduler-lease")

    async def stop(self) -> None:
        """Stop firing and give the lease up, so a standby takes over without waiting."""
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        started = self._state != "stopped"
        self._state = "stopped"
        await self._stand_down()
        if started:
            try:
                await self._lease.release()
            except (SQLAlchemyError, OSError):
                log.exception("could not release the scheduler lease; it expires by itself")

    async def step(self) -> None:
        """One attempt: take or renew the lease, then start or stop the scheduler to match."""
        tenure = await self._attempt()
        if tenure is None:
            # The database did not answer: keep firing until the lease held so far ends.
            if not self.may_fire():
                await self._stand_down("the lease ran out unrenewed")
            return
        if not tenure.held:
            if self._until is not None:
                await self._stand_down(f"{tenure.holder or 'another process'} took the lease")
            elif tenure.holder is not None and tenure.holder != self._other:
                log.info("scheduler: standby; %s holds the lease", tenure.holder)
            self._other = tenure.holder or self._other
            return
        if not self._unexpired(tenure.until):
            await self._stand_down("the renewal came back after the lease's end")
            return
        self._until = tenure.until
        if not self._scheduler.running:
            try:
                await self._scheduler.start(guard=self.may_fire)
            except (SQLAlchemyError, OSError):
                # Still holding the lease: the next renewal tries again.
                log.exception("the scheduler could not start; trying again shortly")
                return
            log.info("scheduler: leader (%s)", self._lease.holder)
            self._state = "leader"

    def _unexpired(self, until: float | None) -> bool:
        return until is not None and self._clock() < until

    async def _attempt(self) -> Tenure | None:
        # A holder's renewal may take only until its lease ends: past that it stops firing,
        # whatever the database is doing meanwhile. A standby's attempt gets a lease period.
        limit = self._lease.ttl if self._until is None else max(self._until - self._clock(), 0)
        try:
            async with asyncio.timeout(limit):
                return await self._lease.hold()
        except TimeoutError:
            log.warning("the scheduler lease was not renewed in time")
        except (SQLAlchemyError, OSError):
            log.exception("the scheduler lease could not be taken or renewed")
        return None

    async def _stand_down(self, why: str | None = None) -> None:
        was_leader = self._until is not None or self._scheduler.running
        self._until = None
        if self._state != "stopped":
            self._state = "standby"
            if was_leader and why is not None:
                log.warning("scheduler: standby, %s (%s)", why, self._lease.holder)
        if self._scheduler.running:
            await self._scheduler.shutdown()

    async def _forever(self) -> None:
        while True:
            wait = self._every
            if self._until is not None:
                # Wake at the lease's end at the latest, to stop the scheduler then.
                wait = min(wait, max(self._until - self._clock(), 0.0))
            await asyncio.sleep(wait)
            try:
                await self.step()
            except Exception:
                # The loop must outlive any one failure, or a standby would never take over.
                log.exception("the scheduler lease loop failed once; trying again")
