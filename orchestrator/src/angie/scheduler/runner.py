"""The daemon's APScheduler: one job per enabled schedule, in step with the ``schedules`` table.

The table is the source of truth. Other processes (the API, the CLI) only write rows; this
runner reconciles the job store with them on start and then every few seconds, and applies its
own process's changes at once. Jobs only emit cron events; the daemon routes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update

from angie.db.models import Schedule
from angie.scheduler import jobs
from angie.scheduler.crontab import parse_crontab
from angie.scheduler.errors import CronError
from angie.scheduler.jobstore import create_job_store
from angie.scheduler.misfire import is_catch_up, job_options

if TYPE_CHECKING:
    from angie.db.engine import Database
    from angie.scheduler.jobs import Emit

__all__ = ("Guard", "JobRunner", "WallClock")

log = logging.getLogger(__name__)


class WallClock(Protocol):
    """The current time, timezone-aware; tests inject a fixed one."""

    def __call__(self) -> datetime: ...


#: Whether this process may fire now (it holds the scheduler's lease).
Guard = Callable[[], bool]


def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class _Shape:
    """Everything a stored job freezes; a difference means the job must be re-added."""

    func_ref: str
    args: tuple[Any, ...]
    trigger: str
    coalesce: bool
    misfire_grace_time: int | None
    max_instances: int

    @classmethod
    def of(cls, job: Any) -> _Shape:
        return cls(
            job.func_ref,
            tuple(job.args),
            repr(job.trigger),
            job.coalesce,
            job.misfire_grace_time,
            job.max_instances,
        )


class JobRunner:
    """Runs the schedules of one database on this process's event loop; start it once."""

    def __init__(
        self, database: Database, emit: Emit, *, clock: WallClock, reconcile_every: float
    ) -> None:
        self._database = database
        self._emit = emit
        self._clock = clock
        self._every = reconcile_every
        self._aps: Any = None
        self._guard: Guard = _always
        self._lock = asyncio.Lock()
        self._reconciler: asyncio.Task[None] | None = None
        # job id -> the tick APScheduler just submitted; the job function reads it back.
        self._ticks: dict[str, datetime] = {}
        self._inflight: set[asyncio.Task[Any]] = set()
        self._chores: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._aps is not None

    async def start(self, *, guard: Guard | None = None) -> None:
        if self._aps is not None:
            raise RuntimeError("this scheduler is already running")
        self._guard = guard or _always
        jobs.attach(self)
        scheduler = AsyncIOScheduler(
            jobstores={"default": create_job_store(self._database.engine.url)}, timezone=UTC
        )
        scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        scheduler.add_listener(self._on_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        try:
            # Paused: the stores are open but nothing fires until the jobs match the table.
            scheduler.start(paused=True)
            self._aps = scheduler
            await self.reconcile()
        except BaseException:
            self._aps = None
            await _stop(scheduler)
            jobs.detach(self)
            raise
        scheduler.resume()
        self._reconciler = asyncio.create_task(self._reconcile_forever(), name="angie-cron")

    async def shutdown(self, *, drain_seconds: float = 10.0) -> None:
        """Stop firing, let the ticks already running finish (for up to ``drain_seconds``)."""
        scheduler = self._aps
        if scheduler is None:
            return
        if self._reconciler is not None:
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
            self._reconciler = None
        scheduler.pause()
        await asyncio.sleep(0)  # ticks submitted a moment ago start and register themselves
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=drain_seconds)
        await _stop(scheduler)
        if self._chores:
            await asyncio.gather(*self._chores, return_exceptions=True)
        self._aps = None
        jobs.detach(self)

    async def reconcile(self) -> None:
        """Make the job store match the table: add, re-add, remove; mirror ``next_run_at``."""
        scheduler = self._require()
        async with self._lock:
            async with self._database.session() as session:
                schedules = (await session.scalars(select(Schedule))).all()
            stored = {job.id: job for job in scheduler.get_jobs()}
            next_runs = {
                s.id: self._sync(s, stored.pop(jobs.job_id(s.id), None)) for s in schedules
            }
            for orphan in stored:
                log.info("removing job %s: its schedule is gone", orphan)
                scheduler.remove_job(orphan)
            await self._write_next_runs(
                {s.id: next_runs[s.id] for s in schedules if s.next_run_at != next_runs[s.id]}
            )

    async def apply(self, schedule: Schedule) -> None:
        """Bring one schedule's job in line after this process committed a change to it."""
        scheduler = self._require()
        async with self._lock:
            self._sync(schedule, scheduler.get_job(jobs.job_id(schedule.id)))

    async def forget(self, schedule_id: int) -> None:
        scheduler = self._require()
        async with self._lock:
            if scheduler.get_job(jobs.job_id(schedule_id)) is not None:
                scheduler.remove_job(jobs.job_id(schedule_id))

    async def run(self, schedule_id: int) -> None:
        """One tick of a schedule (called by :func:`angie.scheduler.jobs.fire`)."""
        key = jobs.job_id(schedule_id)
        fired_at = self._clock()
        scheduled_at = self._ticks.pop(key, fired_at).astimezone(UTC)
        if not self._guard():
            # The lease ran out a moment ago and the scheduler is being stopped: firing now
            # could fire next to the process that holds it. (A tick already past this check
            # when the lease runs out is still one event: cron events are deduplicated by tick.)
            log.warning("schedule %s: not fired, the scheduler lease ran out", schedule_id)
            return
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            next_run = self._next_run_time(key)
            async with self._database.session() as session:
                schedule = await session.get(Schedule, schedule_id)
                if schedule is None or not schedule.enabled:
                    # Deleted or paused by another process; the next reconcile drops the job.
                    log.info("schedule %s ticked but is gone or paused", schedule_id)
                    return
                if schedule.last_run_at is not None and schedule.last_run_at >= scheduled_at:
                    # A run at or after this tick served it already: the job store failed to
                    # record the next run time (a locked SQLite, a lost connection) and offers
                    # the same tick again. One event per tick, never two.
                    log.warning("schedule %s: tick %s already ran", schedule_id, scheduled_at)
                    return
                schedule.last_run_at = fired_at
                schedule.next_run_at = next_run
                user_id = schedule.user_id
            catch_up = is_catch_up(scheduled_at, fired_at)
            await self._emit(jobs.CronFire(schedule_id, user_id, scheduled_at, fired_at, catch_up))
        finally:
            if task is not None:
                self._inflight.discard(task)

    def _sync(self, schedule: Schedule, job: Any) -> datetime | None:
        """Add, re-add or remove ``schedule``'s job; the job's next run time, if any."""
        scheduler = self._require()
        key = jobs.job_id(schedule.id)
        try:
            trigger = parse_crontab(schedule.cron, schedule.timezone) if schedule.enabled else None
        except CronError as err:
            log.error("schedule %s cannot run: %s", schedule.id, err)
            trigger = None
        if trigger is None:
            if job is not None:
                scheduler.remove_job(key)
            return None
        options = job_options(schedule.misfire_policy, schedule.misfire_grace_seconds)
        wanted = _Shape(
            jobs.FIRE,
            (schedule.id,),
            repr(trigger),
            options.coalesce,
            options.misfire_grace_time,
            1,
        )
        if job is None or _Shape.of(job) != wanted:
            # Options are frozen into a stored job: a change means adding it again.
            job = scheduler.add_job(
                jobs.FIRE,
                trigger=trigger,
                args=(schedule.id,),
                id=key,
                name=f"schedule {schedule.id}",
                coalesce=options.coalesce,
                misfire_grace_time=options.misfire_grace_time,
                max_instances=1,
                replace_existing=True,
            )
        next_run: datetime | None = job.next_run_time
        return next_run

    def _next_run_time(self, key: str) -> datetime | None:
        job = self._require().get_job(key)
        return None if job is None else job.next_run_time

    async def _write_next_runs(self, next_runs: dict[int, datetime | None]) -> None:
        if not next_runs:
            return
        async with self._database.session() as session:
            for schedule_id, next_run in next_runs.items():
                await session.execute(
                    update(Schedule).where(Schedule.id == schedule_id).values(next_run_at=next_run)
                )

    async def _reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.reconcile()
            except Exception:
                log.exception("reconciling schedules failed; trying again in %s s", self._every)
            # Should a job store error ever escape APScheduler's wakeup, its timer is gone;
            # waking it re-arms the timer, so a passing database hiccup cannot stop the crons.
            self._require().wakeup()

    def _on_submitted(self, event: Any) -> None:
        # Coalescing jobs are submitted with one run time: the latest tick that is due.
        self._ticks[event.job_id] = event.scheduled_run_times[-1]

    def _on_done(self, event: Any) -> None:
        self._ticks.pop(event.job_id, None)

    def _on_missed(self, event: Any) -> None:
        self._ticks.pop(event.job_id, None)
        schedule_id = int(event.job_id.removeprefix("schedule:"))
        self._spawn(self._write_next_runs({schedule_id: self._next_run_time(event.job_id)}))

    def _spawn(self, chore: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(chore)
        self._chores.add(task)
        task.add_done_callback(self._chore_done)

    def _chore_done(self, task: asyncio.Task[None]) -> None:
        self._chores.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("updating a schedule after a missed tick failed", exc_info=task.exception())

    def _require(self) -> Any:
        if self._aps is None:
            raise RuntimeError("the scheduler is not running in this process")
        return self._aps


async def _stop(scheduler: Any) -> None:
    """Shut APScheduler down; on asyncio it does so on the loop's next turn."""
    if not scheduler.running:
        return
    scheduler.shutdown(wait=False)
    for _ in range(100):
        if not scheduler.running:
            return
        await asyncio.sleep(0)
