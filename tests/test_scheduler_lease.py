"""The scheduler's lease: one holder at a time on one database (SQLite and MariaDB), renewed by
its holder, taken over once it goes unrenewed for a lease period, and a holder that loses it
stops firing at once.

Each process's monotonic clock is a hand-moved :class:`Clock`, so expiry is tested without
waiting for it; the tests that need a real loop use real, short leases.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from angie.db.engine import Database
from angie.db.models import Lease, User
from angie.scheduler.jobs import CronFire
from angie.scheduler.leader import SchedulerLeader
from angie.scheduler.lease import DatabaseLease, Tenure
from angie.scheduler.runner import Guard
from angie.scheduler.service import Scheduler

TTL = 30.0


class Clock:
    """One process's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lease(db: Database, name: str, clock: Clock, ttl: float = TTL) -> DatabaseLease:
    return DatabaseLease(db, ttl=ttl, holder=name, clock=clock)


async def row(db: Database) -> Lease | None:
    async with db.session() as session:
        return await session.scalar(select(Lease))


def running(scheduler: Scheduler | FakeScheduler) -> bool:
    """Read anew: a scheduler starts and stops under the test's feet."""
    return scheduler.running


class FakeScheduler:
    """Stands in for a second process's scheduler (one real one runs per process)."""

    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def start(self, *, guard: Guard | None = None) -> None:
        self.running, self.starts = True, self.starts + 1

    async def shutdown(self) -> None:
        self.running = False


async def test_the_first_contender_holds_the_lease_and_the_next_stands_by(db: Database) -> None:
    a, b = Clock(), Clock()
    first = await lease(db, "a", a).hold()
    second = await lease(db, "b", b).hold()
    assert first == Tenure(a.now + TTL, "a")
    assert second == Tenure(None, "a")
    held = await row(db)
    assert held is not None
    assert held.holder == "a"


async def test_the_holder_renews_and_keeps_the_lease_past_its_first_period(db: Database) -> None:
    a, b = Clock(), Clock()
    holder, standby = lease(db, "a", a), lease(db, "b", b)
    await holder.hold()
    for _ in range(5):
        assert not (await standby.hold()).held
        a.now += TTL / 3
        b.now += TTL / 3
        renewed = await holder.hold()
        assert renewed == Tenure(a.now + TTL, "a")
    # Renewed all along: never unrenewed for a whole period in the standby's eyes.
    assert not (await standby.hold()).held
    held = await row(db)
    assert held is not None
    assert (held.holder, held.version) == ("a", 6)


async def test_a_standby_takes_over_a_lease_left_unrenewed_for_its_period(db: Database) -> None:
    a, b = Clock(), Clock()
    holder, standby = lease(db, "a", a), lease(db, "b", b)
    await holder.hold()
    assert not (await standby.hold()).held  # the standby starts counting here
    b.now += TTL - 0.1
    assert not (await standby.hold()).held
    b.now += 0.2
    taken = await standby.hold()
    assert taken == Tenure(b.now + TTL, "b")
    # The old holder (a pause, a partition) finds it gone and does not get it back.
    assert await holder.hold() == Tenure(None, "b")


async def test_a_released_lease_is_taken_at_once(db: Database) -> None:
    a, b = Clock(), Clock()
    holder, standby = lease(db, "a", a), lease(db, "b", b)
    await holder.hold()
    assert not (await standby.hold()).held
    await holder.release()
    assert (await standby.hold()).held


async def test_contenders_at_the_same_moment_never_both_hold(db: Database) -> None:
    clocks = [Clock() for _ in range(4)]
    leases = [lease(db, f"p{i}", clock) for i, clock in enumerate(clocks)]
    for _ in range(3):
        tenures = await asyncio.gather(*(one.hold() for one in leases), return_exceptions=True)
        # A contender may also lose to a locked database (SQLite): it is simply not holding.
        holders = [t.holder for t in tenures if isinstance(t, Tenure) and t.held]
        assert len(holders) <= 1, holders
        held = await row(db)
        assert held is not None
        assert holders in ([held.holder], [])
        for clock in clocks:  # long enough for the others to count the holder as gone
            clock.now += TTL + 1
    assert (await row(db)) is not None


async def test_the_leader_runs_the_scheduler_and_the_standby_does_not(db: Database) -> None:
    a, b = Clock(), Clock()
    first, second = FakeScheduler(), FakeScheduler()
    leader = SchedulerLeader(first, lease(db, "a", a), renew_every=10, clock=a)
    standby = SchedulerLeader(second, lease(db, "b", b), renew_every=10, clock=b)
    await leader.start()
    await standby.start()
    try:
        assert (leader.state, first.running, leader.may_fire()) == ("leader", True, True)
        assert (standby.state, second.running, standby.may_fire()) == ("standby", False, False)
    finally:
        await standby.stop()
        await leader.stop()


async def test_losing_the_lease_stops_the_scheduler_at_once(db: Database) -> None:
    a, b = Clock(), Clock()
    fires: list[CronFire] = []

    async def emit(fire: CronFire) -> None:
        fires.append(fire)

    scheduler = Scheduler(db, emit)
    second = FakeScheduler()
    leader = SchedulerLeader(scheduler, lease(db, "a", a), renew_every=10, clock=a)
    standby = SchedulerLeader(second, lease(db, "b", b), renew_every=10, clock=b)
    try:
        await leader.step()
        await standby.step()
        assert scheduler.running
        # The leader stalls past its lease (a frozen VM, a long pause); the standby takes over.
        a.now += TTL + 1
        assert not leader.may_fire()  # a tick arriving now is not fired
        b.now += TTL + 1
        await standby.step()
        assert second.running
        await leader.step()
        assert (leader.state, scheduler.running) == ("standby", False)
    finally:
        await leader.stop()
    assert fires == []


async def test_a_renewal_that_hangs_stops_the_scheduler_when_the_lease_ends(
    db: Database,
) -> None:
    class StallingLease(DatabaseLease):
        """Renews once, then its database stops answering."""

        stalled = False

        async def hold(self) -> Tenure:
            if self.stalled:
                await asyncio.Event().wait()
            self.stalled = True
            return await super().hold()

    scheduler = FakeScheduler()
    leader = SchedulerLeader(
        scheduler,
        StallingLease(db, ttl=0.6, holder="a"),
        renew_every=0.2,
    )
    await leader.start()
    try:
        assert scheduler.running
        started = asyncio.get_running_loop().time()
        while running(scheduler):
            await asyncio.sleep(0.02)
            assert asyncio.get_running_loop().time() - started < 5
        assert not leader.may_fire()
        assert leader.state == "standby"
        # Stopped by the lease's end, not before.
        assert asyncio.get_running_loop().time() - started >= 0.5
    finally:
        await leader.stop()


async def test_a_stopped_leader_hands_over_at_once(db: Database) -> None:
    a, b = Clock(), Clock()
    first, second = FakeScheduler(), FakeScheduler()
    leader = SchedulerLeader(first, lease(db, "a", a), renew_every=10, clock=a)
    standby = SchedulerLeader(second, lease(db, "b", b), renew_every=10, clock=b)
    await leader.start()
    await standby.start()
    try:
        assert (first.running, second.running) == (True, False)
        await leader.stop()
        assert (leader.state, first.running) == ("stopped", False)
        await standby.step()  # no waiting out the lease
        assert (standby.state, second.running) == ("leader", True)
    finally:
        await standby.stop()


async def test_a_lone_daemon_leads_from_its_start_and_releases_on_stop(db: Database) -> None:
    async with db.session() as session:
        user = User(email="sam@example.org", display_name="Sam")
        session.add(user)
        await session.flush()
        user_id = user.id
    fires: list[CronFire] = []

    async def emit(fire: CronFire) -> None:
        fires.append(fire)

    scheduler = Scheduler(db, emit)
    await scheduler.create(user_id, "Ping", "* * * * *", instruction="Ping me.")
    leader = SchedulerLeader(scheduler, DatabaseLease(db, ttl=5), renew_every=1)
    await leader.start()
    try:
        assert leader.state == "leader"
        assert scheduler.running
    finally:
        await leader.stop()
    assert not running(scheduler)
    held = await row(db)
    assert held is not None
    assert held.holder is None  # released on stop


def test_the_lease_must_be_renewed_more_often_than_it_lasts() -> None:
    with pytest.raises(ValueError, match="renewed more often"):
        SchedulerLeader(FakeScheduler(), _Bare(), renew_every=30)


class _Bare:
    """A lease that is never asked anything."""

    holder = "x"
    ttl = 30.0

    async def hold(self) -> Tenure:
        raise AssertionError("not asked")

    async def release(self) -> None:
        raise AssertionError("not asked")
