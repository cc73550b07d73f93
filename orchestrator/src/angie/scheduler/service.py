"""Angie's crons as one service: a user's schedules, and in the daemon the scheduler firing them.

CRUD works in any process. Where the scheduler is not running (the API, the CLI) it only writes
rows: the daemon reconciles its job store with the ``schedules`` table every few seconds, so the
table stays the one source of truth whoever wrote it, and no process has to reach into another.
Where it runs, changes also reach the job store at once.
"""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from angie.db.base import utcnow
from angie.db.models import MisfirePolicy, Schedule
from angie.scheduler.crontab import next_fire_times, parse_crontab
from angie.scheduler.errors import CronError, ScheduleError, ScheduleNotFound
from angie.scheduler.runner import Guard, JobRunner, WallClock
from angie.scheduler.validation import (
    Target,
    check_cron,
    check_grace,
    check_instruction,
    check_name,
    check_name_free,
    check_policy,
    check_target,
    check_user,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.db.engine import Database
    from angie.scheduler.jobs import Emit
    from angie.scheduler.trigger import WallClockTrigger

__all__ = ("UNSET", "Scheduler", "Upcoming")

log = logging.getLogger(__name__)


class _Unset(Enum):
    UNSET = "unset"


#: "Leave as it is", for :meth:`Scheduler.update` (where ``None`` is a value: no target).
UNSET = _Unset.UNSET


@dataclass(frozen=True, slots=True)
class Upcoming:
    """One coming run of a schedule, in the schedule's own timezone."""

    schedule_id: int
    name: str
    at: datetime


class Scheduler:
    """Create, list, change and delete a user's schedules; ``start()`` only in the daemon.

    ``emit`` receives every tick as a :class:`~angie.scheduler.jobs.CronFire`; a process that
    only edits schedules may leave it out. ``reconcile_every`` is how often, in seconds, the
    running scheduler picks up changes written by other processes.
    """

    def __init__(
        self,
        database: Database,
        emit: Emit | None = None,
        *,
        clock: WallClock = utcnow,
        reconcile_every: float = 15.0,
    ) -> None:
        self._database = database
        self._emit = emit
        self._clock = clock
        self._every = reconcile_every
        self._runner: JobRunner | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None and self._runner.running

    async def start(self, *, guard: Guard | None = None) -> None:
        """Reconcile the job store with the table, then fire; one scheduler per process.

        ``guard``, asked before each tick, says whether this process may still fire (it holds
        the scheduler's lease); a tick it refuses is left to the process that does.
        """
        if self._emit is None:
            raise RuntimeError("a scheduler that fires needs an emit callback")
        if self._runner is None:
            self._runner = JobRunner(
                self._database, self._emit, clock=self._clock, reconcile_every=self._every
            )
        await self._runner.start(guard=guard)

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.shutdown()

    async def reconcile(self) -> None:
        """Pick up changes made by other processes now rather than at the next interval."""
        if self._runner is None or not self._runner.running:
            raise RuntimeError("the scheduler is not running in this process")
        await self._runner.reconcile()

    async def create(
        self,
        user_id: int,
        name: str,
        cron: str,
        *,
        timezone: str = "UTC",
        agent_id: int | None = None,
        team_id: int | None = None,
        workflow_id: int | None = None,
        instruction: str = "",
        misfire_policy: MisfirePolicy | str = MisfirePolicy.RUN_ONCE,
        misfire_grace_seconds: int = 3600,
    ) -> Schedule:
        """A new, enabled schedule; an invalid field is a ``ScheduleError``, nothing is saved."""
        name = check_name(name)
        cron, trigger = check_cron(cron, timezone)
        target = Target(agent_id, team_id, workflow_id)
        instruction = check_instruction(instruction, target)
        policy = check_policy(misfire_policy)
        grace = check_grace(misfire_grace_seconds)
        async with self._database.session() as session:
            await check_user(session, user_id)
            await check_target(session, user_id, target)
            await check_name_free(session, user_id, name)
            schedule = Schedule(
                user_id=user_id,
                name=name,
                cron=cron,
                timezone=timezone,
                agent_id=agent_id,
                team_id=team_id,
                workflow_id=workflow_id,
                instruction=instruction,
                enabled=True,
                misfire_policy=policy,
                misfire_grace_seconds=grace,
                next_run_at=self._next_run(trigger),
            )
            session.add(schedule)
            await _flush(session, name)
        await self._apply(schedule)
        return schedule

    async def list(self, user_id: int) -> builtins.list[Schedule]:
        async with self._database.session() as session:
            query = select(Schedule).where(Schedule.user_id == user_id).order_by(Schedule.name)
            return builtins.list((await session.scalars(query)).all())

    async def get(self, user_id: int, schedule_id: int) -> Schedule:
        async with self._database.session() as session:
            return await _owned(session, user_id, schedule_id)

    async def update(
        self,
        user_id: int,
        schedule_id: int,
        *,
        name: str | _Unset = UNSET,
        cron: str | _Unset = UNSET,
        timezone: str | _Unset = UNSET,
        agent_id: int | _Unset | None = UNSET,
        team_id: int | _Unset | None = UNSET,
        workflow_id: int | _Unset | None = UNSET,
        instruction: str | _Unset = UNSET,
        misfire_policy: MisfirePolicy | str | _Unset = UNSET,
        misfire_grace_seconds: int | _Unset = UNSET,
    ) -> Schedule:
        """Change what is given. Giving any of the three targets replaces the whole target."""
        targets = (agent_id, team_id, workflow_id)
        async with self._database.session() as session:
            schedule = await _owned(session, user_id, schedule_id)
            # Every check (and its queries) before any change: nothing is flushed half-checked.
            new_name = schedule.name if isinstance(name, _Unset) else check_name(name)
            if new_name != schedule.name:
                await check_name_free(session, user_id, new_name, keep=schedule.id)
            new_zone = schedule.timezone if isinstance(timezone, _Unset) else timezone
            new_cron, trigger = check_cron(
                schedule.cron if isinstance(cron, _Unset) else cron, new_zone
            )
            target = Target(schedule.agent_id, schedule.team_id, schedule.workflow_id)
            if not all(isinstance(t, _Unset) for t in targets):
                target = Target(*(None if isinstance(t, _Unset) else t for t in targets))
                await check_target(session, user_id, target)
            new_instruction = check_instruction(
                schedule.instruction if isinstance(instruction, _Unset) else instruction, target
            )
            policy = (
                schedule.misfire_policy
                if isinstance(misfire_policy, _Unset)
                else check_policy(misfire_policy)
            )
            grace = (
                schedule.misfire_grace_seconds
                if isinstance(misfire_grace_seconds, _Unset)
                else check_grace(misfire_grace_seconds)
            )
            if schedule.enabled and (new_cron, new_zone) != (schedule.cron, schedule.timezone):
                schedule.next_run_at = self._next_run(trigger)
            schedule.name, schedule.cron, schedule.timezone = new_name, new_cron, new_zone
            schedule.agent_id, schedule.team_id, schedule.workflow_id = (
                target.agent_id,
                target.team_id,
                target.workflow_id,
            )
            schedule.instruction = new_instruction
            schedule.misfire_policy, schedule.misfire_grace_seconds = policy, grace
            await _flush(session, new_name)
        await self._apply(schedule)
        return schedule

    async def pause(self, user_id: int, schedule_id: int) -> Schedule:
        """Stop a schedule firing; the ticks while paused are never caught up."""
        async with self._database.session() as session:
            schedule = await _owned(session, user_id, schedule_id)
            schedule.enabled = False
            schedule.next_run_at = None
        await self._apply(schedule)
        return schedule

    async def pause_all(self, user_id: int) -> builtins.list[Schedule]:
        """Pause every enabled schedule of a person (their account was deactivated)."""
        enabled = [s for s in await self.list(user_id) if s.enabled]
        return [await self.pause(user_id, schedule.id) for schedule in enabled]

    async def resume(self, user_id: int, schedule_id: int) -> Schedule:
        """Fire again from the next tick on."""
        async with self._database.session() as session:
            schedule = await _owned(session, user_id, schedule_id)
            _, trigger = check_cron(schedule.cron, schedule.timezone)
            schedule.enabled = True
            schedule.next_run_at = self._next_run(trigger)
        await self._apply(schedule)
        return schedule

    async def delete(self, user_id: int, schedule_id: int) -> None:
        async with self._database.session() as session:
            await session.delete(await _owned(session, user_id, schedule_id))
        if self._runner is not None and self._runner.running:
            try:
                await self._runner.forget(schedule_id)
            except SQLAlchemyError:
                log.exception(
                    "schedule %s is deleted; its job goes at the next reconcile", schedule_id
                )

    async def upcoming(self, user_id: int, limit: int = 10) -> builtins.list[Upcoming]:
        """The user's next ``limit`` runs across all their enabled schedules, soonest first."""
        if limit < 1:
            raise ScheduleError("Ask for at least one upcoming run.")
        now = self._clock()
        runs: builtins.list[Upcoming] = []
        for schedule in await self.list(user_id):
            if not schedule.enabled:
                continue
            try:
                trigger = parse_crontab(schedule.cron, schedule.timezone)
            except CronError as err:
                log.warning("schedule %s is not listed: %s", schedule.id, err)
                continue
            runs += (
                Upcoming(schedule.id, schedule.name, at)
                for at in next_fire_times(trigger, now, limit)
            )
        runs.sort(key=lambda run: (run.at, run.schedule_id))
        return runs[:limit]

    def _next_run(self, trigger: WallClockTrigger) -> datetime | None:
        times = next_fire_times(trigger, self._clock(), 1)
        return times[0] if times else None

    async def _apply(self, schedule: Schedule) -> None:
        if self._runner is None or not self._runner.running:
            return
        try:
            await self._runner.apply(schedule)
        except SQLAlchemyError:
            # The row is saved and it is the truth: the next reconcile brings the job in line.
            log.exception(
                "schedule %s is saved; its job follows at the next reconcile", schedule.id
            )


async def _owned(session: AsyncSession, user_id: int, schedule_id: int) -> Schedule:
    query = select(Schedule).where(Schedule.id == schedule_id, Schedule.user_id == user_id)
    schedule = (await session.scalars(query)).one_or_none()
    if schedule is None:
        # Another user's schedule is "not found" too: its existence is not theirs to learn.
        raise ScheduleNotFound(f"Schedule {schedule_id} was not found.")
    return schedule


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as err:
        # The checks above passed, so another writer got there in the meantime.
        raise ScheduleError(
            f"The schedule {name!r} could not be saved: its name was just taken or its target "
            f"just deleted."
        ) from err
