"""The running scheduler: ticks fire and emit, downtime is caught up by policy, jobs mirror rows.

Downtime is simulated the way it happens: the scheduler is shut down and, before it starts
again, the stored job's next run time is put in the past, as the clock would have moved it.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from angie.db.engine import Database
from angie.db.models import Schedule, User
from angie.db.models.scheduler_jobs import scheduler_jobs
from angie.scheduler.errors import ScheduleNotFound
from angie.scheduler.jobs import CronFire
from angie.scheduler.jobstore import sync_engine
from angie.scheduler.misfire import ON_TIME
from angie.scheduler.service import Scheduler

WAIT = 5.0  # seconds: generous for a loaded CI machine, each wait normally ends in milliseconds


class Fires:
    """The daemon's side of ``emit``: every CronFire, in order."""

    def __init__(self) -> None:
        self.seen: list[CronFire] = []
        self._queue: asyncio.Queue[CronFire] = asyncio.Queue()

    async def __call__(self, fire: CronFire) -> None:
        self.seen.append(fire)
        await self._queue.put(fire)

    async def next(self) -> CronFire:
        return await asyncio.wait_for(self._queue.get(), WAIT)


@asynccontextmanager
async def running(db: Database, fires: Fires, **options: Any) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler(db, fires, **options)
    await scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.shutdown()


async def _user(db: Database, email: str = "sam@example.org") -> int:
    async with db.session() as s:
        user = User(email=email, display_name="Sam")
        s.add(user)
        await s.flush()
        return user.id


def _raw_jobs(db: Database) -> dict[str, bytes]:
    """The job store's rows as APScheduler wrote them."""
    engine = sync_engine(db.engine.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(scheduler_jobs.c.id, scheduler_jobs.c.job_state)).all()
    finally:
        engine.dispose()
    return {row.id: bytes(row.job_state) for row in rows}


def _stored_jobs(db: Database) -> dict[str, dict[str, Any]]:
    """The job store's rows, unpickled: what APScheduler will find when it starts."""
    # Our own job store's rows, written by APScheduler in this test.
    return {key: pickle.loads(state) for key, state in _raw_jobs(db).items()}  # noqa: S301


def _move_next_run(db: Database, schedule_id: int, when: datetime) -> None:
    """Set a stopped scheduler's stored job to fire at ``when``, as downtime would leave it."""
    key = f"schedule:{schedule_id}"
    state = _stored_jobs(db)[key]
    state["next_run_time"] = when
    engine = sync_engine(db.engine.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(scheduler_jobs)
                .where(scheduler_jobs.c.id == key)
                .values(next_run_time=when.timestamp(), job_state=pickle.dumps(state))
            )
    finally:
        engine.dispose()


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the scheduler never got there"
        await asyncio.sleep(0.02)


async def _settled(scheduler: Scheduler, user_id: int, schedule_id: int) -> None:
    """Wait until the missed tick was handled: the row's next run is in the future again."""

    async def moved_on() -> bool:
        next_run = (await scheduler.get(user_id, schedule_id)).next_run_at
        return next_run is not None and next_run > datetime.now(UTC)

    await _eventually(moved_on)


def _soon() -> datetime:
    """A whole second 0.3 to 1.3 s ahead: time to start a scheduler, not to wait long."""
    return (datetime.now(UTC) + timedelta(milliseconds=300)).replace(microsecond=0) + timedelta(
        seconds=1
    )


def _minute_ago(minutes: int) -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).replace(second=0, microsecond=0)


async def test_a_due_tick_fires_and_emits_a_cron_fire(db: Database) -> None:
    sam = await _user(db)
    fires = Fires()
    async with running(db, fires) as scheduler:
        schedule = await scheduler.create(sam, "Ping", "* * * * *", instruction="Ping me.")
    tick = _soon()
    _move_next_run(db, schedule.id, tick)
    async with running(db, fires) as scheduler:
        fire = await fires.next()
        assert (fire.schedule_id, fire.user_id, fire.catch_up) == (schedule.id, sam, False)
        assert fire.scheduled_at == tick
        assert tick <= fire.fired_at < tick + ON_TIME
        row = await scheduler.get(sam, schedule.id)
    assert row.last_run_at == fire.fired_at
    assert row.next_run_at == tick.replace(second=0) + timedelta(minutes=1)


async def test_after_downtime_run_once_catches_up_exactly_once(db: Database) -> None:
    sam = await _user(db)
    fires = Fires()
    latest = _minute_ago(10)
    async with running(db, fires) as scheduler:
        hourly = await scheduler.create(
            sam,
            "Hourly",
            f"{latest.minute} * * * *",
            instruction="Check.",
            misfire_policy="run_once",
        )
    # Down for four hours: five ticks were missed, the latest ten minutes ago.
    _move_next_run(db, hourly.id, latest - timedelta(hours=4))
    async with running(db, fires) as scheduler:
        fire = await fires.next()
        await _settled(scheduler, sam, hourly.id)
    assert fires.seen == [fire]
    assert (fire.scheduled_at, fire.catch_up) == (latest, True)


async def test_after_downtime_skip_drops_the_missed_ticks(db: Database) -> None:
    sam = await _user(db)
    fires = Fires()
    missed = _minute_ago(10)
    async with running(db, fires) as scheduler:
        daily = await scheduler.create(
            sam,
            "Daily",
            f"{missed.minute} {missed.hour} * * *",
            instruction="Go.",
            misfire_policy="skip",
        )
    _move_next_run(db, daily.id, missed)
    async with running(db, fires) as scheduler:
        await _settled(scheduler, sam, daily.id)
        row = await scheduler.get(sam, daily.id)
    assert fires.seen == []
    assert row.last_run_at is None
    assert row.next_run_at == missed + timedelta(days=1)


async def test_a_tick_missed_beyond_the_grace_is_not_caught_up(db: Database) -> None:
    sam = await _user(db)
    fires = Fires()
    missed = _minute_ago(10)
    async with running(db, fires) as scheduler:
        daily = await scheduler.create(
            sam,
            "Daily",
            f"{missed.minute} {missed.hour} * * *",
            instruction="Go.",
            misfire_policy="run_once",
            misfire_grace_seconds=120,
        )
    _move_next_run(db, daily.id, missed)
    async with running(db, fires) as scheduler:
        await _settled(scheduler, sam, daily.id)
    assert fires.seen == []


async def test_a_tick_that_already_ran_is_not_run_again(db: Database) -> None:
    sam = await _user(db)
    fires = Fires()
    async with running(db, fires) as scheduler:
        ping = await scheduler.create(sam, "Ping", "* * * * *", instruction="Ping me.")
    tick = _soon()
    _move_next_run(db, ping.id, tick)
    # As if the job store had failed to record the next run after serving this tick.
    served = tick + timedelta(milliseconds=5)
    async with db.session() as session:
        await session.execute(
            update(Schedule).where(Schedule.id == ping.id).values(last_run_at=served)
        )

    async def processed() -> bool:
        return bool(_stored_jobs(db)[f"schedule:{ping.id}"]["next_run_time"] > tick)

    async with running(db, fires) as scheduler:
        await _eventually(processed)
    # Shutting down waited for the tick's run to finish.
    assert fires.seen == []
    assert (await scheduler.get(sam, ping.id)).last_run_at == served


async def test_a_schedule_survives_a_restart_with_its_job_untouched(db: Database) -> None:
    sam = await _user(db)
    fires = Fires()
    async with running(db, fires) as scheduler:
        created = await scheduler.create(sam, "Digest", "0 9 * * 1-5", instruction="Mail.")
    before = _raw_jobs(db)
    async with running(db, fires) as scheduler:
        assert [s.id for s in await scheduler.list(sam)] == [created.id]
    # Byte for byte: the restart found the job as it was and did not add it again.
    assert _raw_jobs(db) == before
    assert _stored_jobs(db)[f"schedule:{created.id}"]["next_run_time"] == created.next_run_at


async def test_pause_resume_and_delete_reach_the_job_store_at_once(db: Database) -> None:
    sam = await _user(db)
    async with running(db, Fires()) as scheduler:
        created = await scheduler.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
        key = f"schedule:{created.id}"
        assert list(_stored_jobs(db)) == [key]
        await scheduler.pause(sam, created.id)
        assert _stored_jobs(db) == {}
        resumed = await scheduler.resume(sam, created.id)
        assert _stored_jobs(db)[key]["next_run_time"] == resumed.next_run_at
        await scheduler.update(sam, created.id, cron="0 10 * * *", misfire_policy="skip")
        job = _stored_jobs(db)[key]
        assert job["misfire_grace_time"] == ON_TIME.total_seconds()
        assert job["next_run_time"].hour == 10
        await scheduler.delete(sam, created.id)
        assert _stored_jobs(db) == {}
        with pytest.raises(ScheduleNotFound):
            await scheduler.get(sam, created.id)


async def test_reconcile_removes_jobs_whose_schedule_is_gone(db: Database) -> None:
    sam = await _user(db)
    async with running(db, Fires()) as daemon:
        kept = await daemon.create(sam, "Kept", "0 9 * * *", instruction="Stay.")
        gone = await daemon.create(sam, "Gone", "0 9 * * *", instruction="Go.")
    # The API process deletes while the daemon is down: only the row goes.
    await Scheduler(db).delete(sam, gone.id)
    assert set(_stored_jobs(db)) == {f"schedule:{kept.id}", f"schedule:{gone.id}"}
    async with running(db, Fires()):
        assert set(_stored_jobs(db)) == {f"schedule:{kept.id}"}


async def test_changes_from_another_process_reach_the_running_scheduler(db: Database) -> None:
    sam = await _user(db)
    api = Scheduler(db)  # not started: it only writes rows
    async with running(db, Fires(), reconcile_every=0.05):
        created = await api.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
        key = f"schedule:{created.id}"

        async def has_job(hour: int | None) -> bool:
            job = _stored_jobs(db).get(key)
            return job is not None and job["next_run_time"].hour == hour if hour else job is None

        await _eventually(lambda: has_job(9))
        await api.update(sam, created.id, cron="0 18 * * *")
        await _eventually(lambda: has_job(18))
        await api.pause(sam, created.id)
        await _eventually(lambda: has_job(None))
