"""``/api/schedules``: your crons. Each tick emits a cron event that runs its agent, team, workflow
or instruction; the scheduler validates every field and its daemon applies the change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import Field, field_validator
from sqlalchemy import select

from angie.api.deps import AngieDep, CurrentUser, SessionDep
from angie.api.errors import ApiError, Conflict, NotFound
from angie.api.routes.tasks import release
from angie.api.schemas import Body, ListParams, Out, Page, order_by, paginate
from angie.daemon import Angie
from angie.db.models import MisfirePolicy, Schedule
from angie.scheduler.errors import CronError, ScheduleError, ScheduleNotFound
from angie.scheduler.misfire import MAX_GRACE_SECONDS
from angie.scheduler.service import UNSET, Scheduler
from angie.scheduler.validation import MAX_INSTRUCTION, MAX_NAME, check_name, check_name_free

__all__ = ("ScheduleIn", "ScheduleOut", "ScheduleUpdate", "router")

router = APIRouter(prefix="/schedules", tags=["schedules"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
_TARGETS = ("agent_id", "team_id", "workflow_id")


class ScheduleIn(Body):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    cron: str = Field(
        min_length=1, max_length=120, description="Five fields (m h dom mon dow) or @daily etc."
    )
    timezone: str = Field(default="UTC", max_length=64, description="An IANA timezone name.")
    instruction: str = Field(default="", max_length=MAX_INSTRUCTION)
    agent_id: RowId | None = None
    team_id: RowId | None = None
    workflow_id: RowId | None = None
    enabled: bool = True
    misfire_policy: MisfirePolicy = MisfirePolicy.RUN_ONCE
    misfire_grace_seconds: int = Field(default=3600, ge=0, le=MAX_GRACE_SECONDS)


class ScheduleUpdate(Body):
    """Only what is given changes; giving any of the three targets replaces the whole target."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    cron: str | None = Field(default=None, min_length=1, max_length=120)
    timezone: str | None = Field(default=None, max_length=64)
    instruction: str | None = Field(default=None, max_length=MAX_INSTRUCTION)
    agent_id: RowId | None = None
    team_id: RowId | None = None
    workflow_id: RowId | None = None
    enabled: bool | None = None
    misfire_policy: MisfirePolicy | None = None
    misfire_grace_seconds: int | None = Field(default=None, ge=0, le=MAX_GRACE_SECONDS)


class ScheduleOut(Out):
    id: int
    name: str
    cron: str
    timezone: str
    instruction: str
    agent_id: int | None
    team_id: int | None
    workflow_id: int | None
    enabled: bool
    misfire_policy: MisfirePolicy
    misfire_grace_seconds: int
    next_run_at: datetime | None
    last_run_at: datetime | None
    created_at: datetime

    @field_validator("next_run_at", "last_run_at", "created_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # The scheduler hands back times in the schedule's zone; the API speaks UTC throughout.
        return value.astimezone(UTC) if value is not None else None


def _scheduler(angie: Angie) -> Scheduler:
    # The daemon's scheduler applies a change at once; elsewhere (the api role) one that only
    # writes the rows, with the same checks, and the daemon reconciles within seconds.
    return angie.scheduler if angie.scheduler is not None else Scheduler(angie.database)


def _invalid(err: ScheduleError) -> ApiError:
    """The scheduler's one sentence, as a 404 (not yours or gone) or a 422 (a field is wrong)."""
    if isinstance(err, ScheduleNotFound):
        return NotFound(str(err))
    details = None
    if isinstance(err, CronError):
        field = "timezone" if err.field == "timezone" else "cron"
        details = [{"field": f"body: {field}", "message": str(err)}]
    return ApiError(str(err), status=422, details=details)


async def _name_free(angie: Angie, user_id: int, name: str, keep: int | None = None) -> None:
    """A name already used is a conflict (409), told apart from invalid fields (422)."""
    async with angie.database.session() as session:
        try:
            await check_name_free(session, user_id, check_name(name), keep=keep)
        except ScheduleError as err:
            raise Conflict(str(err)) from None


async def _owned(angie: Angie, user_id: int, schedule_id: int) -> Schedule:
    try:
        return await _scheduler(angie).get(user_id, schedule_id)
    except ScheduleNotFound:
        raise NotFound(f"there is no schedule {schedule_id}") from None


@router.get("", operation_id="list_schedules")
async def list_schedules(
    user: CurrentUser, session: SessionDep, params: ListParams
) -> Page[ScheduleOut]:
    """Your schedules, by name."""
    stmt = order_by(
        select(Schedule).where(Schedule.user_id == user.id),
        params.sort,
        {
            "name": Schedule.name,
            "created_at": Schedule.created_at,
            "next_run_at": Schedule.next_run_at,
            "id": Schedule.id,
        },
        "name",
        Schedule.id,
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[ScheduleOut.model_validate(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "",
    operation_id="create_schedule",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "You already have a schedule with this name"}},
)
async def create_schedule(
    body: ScheduleIn, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> ScheduleOut:
    """Make a schedule; a bad crontab or timezone is refused with the reason."""
    await release(session)
    await _name_free(angie, user.id, body.name)
    scheduler = _scheduler(angie)
    try:
        schedule = await scheduler.create(
            user.id,
            body.name,
            body.cron,
            timezone=body.timezone,
            agent_id=body.agent_id,
            team_id=body.team_id,
            workflow_id=body.workflow_id,
            instruction=body.instruction,
            misfire_policy=body.misfire_policy,
            misfire_grace_seconds=body.misfire_grace_seconds,
        )
        if not body.enabled:
            schedule = await scheduler.pause(user.id, schedule.id)
    except ScheduleError as err:
        raise _invalid(err) from None
    return ScheduleOut.model_validate(schedule)


@router.get("/{schedule_id}", operation_id="get_schedule", responses={404: {}})
async def get_schedule(schedule_id: Id, user: CurrentUser, angie: AngieDep) -> ScheduleOut:
    """One of your schedules."""
    return ScheduleOut.model_validate(await _owned(angie, user.id, schedule_id))


@router.patch(
    "/{schedule_id}", operation_id="update_schedule", responses={404: {}, 409: {}, 422: {}}
)
async def update_schedule(
    schedule_id: Id, body: ScheduleUpdate, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> ScheduleOut:
    """Change one of your schedules; a new crontab or timezone moves its next run."""
    await release(session)
    given = body.model_dump(exclude_unset=True)
    for key, value in given.items():
        if value is None and key not in _TARGETS:
            raise ApiError(
                f"{key} cannot be null",
                status=422,
                details=[{"field": f"body: {key}", "message": "leave it out to keep it"}],
            )
    await _owned(angie, user.id, schedule_id)
    if "name" in given:
        await _name_free(angie, user.id, given["name"], keep=schedule_id)
    changes: dict[str, Any] = {
        key: given.get(key, UNSET)
        for key in (
            "name",
            "cron",
            "timezone",
            "instruction",
            "misfire_policy",
            "misfire_grace_seconds",
            *_TARGETS,
        )
    }
    if any(key in given for key in _TARGETS):
        # Giving one target replaces the whole target: the others are cleared.
        changes.update({key: given.get(key) for key in _TARGETS})
    scheduler = _scheduler(angie)
    try:
        schedule = await scheduler.update(user.id, schedule_id, **changes)
        if given.get("enabled") is False and schedule.enabled:
            schedule = await scheduler.pause(user.id, schedule_id)
        elif given.get("enabled") is True and not schedule.enabled:
            schedule = await scheduler.resume(user.id, schedule_id)
    except ScheduleError as err:
        raise _invalid(err) from None
    return ScheduleOut.model_validate(schedule)


@router.delete("/{schedule_id}", operation_id="delete_schedule", status_code=204)
async def delete_schedule(
    schedule_id: Id, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> None:
    """Delete one of your schedules; it fires no more."""
    await release(session)
    try:
        await _scheduler(angie).delete(user.id, schedule_id)
    except ScheduleNotFound:
        raise NotFound(f"there is no schedule {schedule_id}") from None


@router.post("/{schedule_id}/pause", operation_id="pause_schedule", responses={404: {}})
async def pause_schedule(
    schedule_id: Id, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> ScheduleOut:
    """Stop a schedule firing; the ticks while paused are not caught up."""
    await release(session)
    try:
        return ScheduleOut.model_validate(await _scheduler(angie).pause(user.id, schedule_id))
    except ScheduleNotFound:
        raise NotFound(f"there is no schedule {schedule_id}") from None


@router.post("/{schedule_id}/resume", operation_id="resume_schedule", responses={404: {}})
async def resume_schedule(
    schedule_id: Id, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> ScheduleOut:
    """Fire a paused schedule again from its next tick on."""
    await release(session)
    try:
        return ScheduleOut.model_validate(await _scheduler(angie).resume(user.id, schedule_id))
    except ScheduleNotFound:
        raise NotFound(f"there is no schedule {schedule_id}") from None
    except ScheduleError as err:
        raise _invalid(err) from None
