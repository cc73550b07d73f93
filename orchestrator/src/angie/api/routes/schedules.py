"""``/api/schedules``: your crons. Each tick emits a cron event that runs its agent, team, workflow
or instruction; the scheduler validates every field and its daemon applies the change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import Field, field_validator
from sqlalchemy import select

from angie.api.deps import CurrentUser, SchedulesDep, ServicesDep, SessionDep
from angie.api.paging import query_page
from angie.api.schemas import Body, ListParams, Out, Page, order_by
from angie.api.validation import PathId, RowId, invalid_at, reject_nulls
from angie.api.visibility import TARGET_FIELDS
from angie.db.models import MisfirePolicy, Schedule
from angie.errors import Conflict, Invalid, NotFound
from angie.scheduler.crontab import in_words, next_fire_times, parse_crontab
from angie.scheduler.errors import CronError, ScheduleError, ScheduleNotFound
from angie.scheduler.misfire import MAX_GRACE_SECONDS
from angie.scheduler.service import UNSET
from angie.scheduler.validation import MAX_INSTRUCTION, MAX_NAME, check_name, check_name_free
from angie.services import Services

__all__ = ("ScheduleIn", "ScheduleOut", "ScheduleUpdate", "router")

router = APIRouter(prefix="/schedules", tags=["schedules"])


class ScheduleIn(Body):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    cron: str = Field(
        min_length=1, max_length=120, description="Five fields (m h dom mon dow) or @daily etc."
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="An IANA timezone name; default: yours."
    )
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


@contextmanager
def _refusals(schedule_id: int | None = None) -> Iterator[None]:
    """The scheduler's one sentence, as a 404 (not yours or gone) or a 422 (a field is wrong)."""
    try:
        yield
    except ScheduleNotFound as err:
        raise NotFound(f"there is no schedule {schedule_id}" if schedule_id else str(err)) from None
    except CronError as err:
        field = "timezone" if err.field == "timezone" else "cron"
        raise invalid_at(f"body: {field}", str(err)) from None
    except ScheduleError as err:
        raise Invalid(str(err)) from None


async def _name_free(services: Services, user_id: int, name: str, keep: int | None = None) -> None:
    """A name already used is a conflict (409), told apart from invalid fields (422)."""
    async with services.database.session() as session:
        try:
            await check_name_free(session, user_id, check_name(name), keep=keep)
        except ScheduleError as err:
            raise Conflict(str(err)) from None


async def _owned(services: Services, user_id: int, schedule_id: int) -> Schedule:
    with _refusals(schedule_id):
        return await services.schedules.get(user_id, schedule_id)


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
    return await query_page(session, stmt, params, ScheduleOut.model_validate)


@router.post(
    "",
    operation_id="create_schedule",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "You already have a schedule with this name"}},
)
async def create_schedule(
    body: ScheduleIn, user: CurrentUser, services: ServicesDep
) -> ScheduleOut:
    """Make a schedule; a bad crontab or timezone is refused with the reason."""
    await _name_free(services, user.id, body.name)
    scheduler = services.schedules
    with _refusals():
        schedule = await scheduler.create(
            user.id,
            body.name,
            body.cron,
            timezone=body.timezone or user.timezone or "UTC",
            agent_id=body.agent_id,
            team_id=body.team_id,
            workflow_id=body.workflow_id,
            instruction=body.instruction,
            misfire_policy=body.misfire_policy,
            misfire_grace_seconds=body.misfire_grace_seconds,
        )
        if not body.enabled:
            schedule = await scheduler.pause(user.id, schedule.id)
    return ScheduleOut.model_validate(schedule)


class PreviewIn(Body):
    cron: str = Field(
        min_length=1, max_length=120, description="Five fields (m h dom mon dow) or @daily etc."
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="An IANA timezone name; default: yours."
    )


class PreviewOut(Out):
    description: str = Field(description='In words, e.g. "At 07:00, Monday through Friday".')
    timezone: str
    next_runs: list[datetime] = Field(description="The next five runs, in that timezone.")


PREVIEW_RUNS = 5


@router.post("/preview", operation_id="preview_schedule")
async def preview_schedule(body: PreviewIn, user: CurrentUser) -> PreviewOut:
    """A crontab in words and its next five runs, as Angie's scheduler computes them, before
    anything is saved; a bad crontab or timezone is refused with the reason."""
    timezone = body.timezone or user.timezone or "UTC"
    with _refusals():
        trigger = parse_crontab(body.cron, timezone)
    runs = next_fire_times(trigger, datetime.now(UTC), PREVIEW_RUNS)
    return PreviewOut(description=in_words(body.cron), timezone=timezone, next_runs=runs)


@router.get("/{schedule_id}", operation_id="get_schedule", responses={404: {}})
async def get_schedule(
    schedule_id: PathId, user: CurrentUser, services: ServicesDep
) -> ScheduleOut:
    """One of your schedules."""
    return ScheduleOut.model_validate(await _owned(services, user.id, schedule_id))


@router.patch(
    "/{schedule_id}", operation_id="update_schedule", responses={404: {}, 409: {}, 422: {}}
)
async def update_schedule(
    schedule_id: PathId,
    body: ScheduleUpdate,
    user: CurrentUser,
    services: ServicesDep,
) -> ScheduleOut:
    """Change one of your schedules; a new crontab or timezone moves its next run."""
    given = body.model_dump(exclude_unset=True)
    reject_nulls(given, nullable=TARGET_FIELDS)
    await _owned(services, user.id, schedule_id)
    if "name" in given:
        await _name_free(services, user.id, given["name"], keep=schedule_id)
    changes: dict[str, Any] = {
        key: given.get(key, UNSET)
        for key in (
            "name",
            "cron",
            "timezone",
            "instruction",
            "misfire_policy",
            "misfire_grace_seconds",
            *TARGET_FIELDS,
        )
    }
    if any(key in given for key in TARGET_FIELDS):
        # Giving one target replaces the whole target: the others are cleared.
        changes.update({key: given.get(key) for key in TARGET_FIELDS})
    scheduler = services.schedules
    with _refusals(schedule_id):
        schedule = await scheduler.update(user.id, schedule_id, **changes)
        if given.get("enabled") is False and schedule.enabled:
            schedule = await scheduler.pause(user.id, schedule_id)
        elif given.get("enabled") is True and not schedule.enabled:
            schedule = await scheduler.resume(user.id, schedule_id)
    return ScheduleOut.model_validate(schedule)


@router.delete("/{schedule_id}", operation_id="delete_schedule", status_code=204)
async def delete_schedule(schedule_id: PathId, user: CurrentUser, schedules: SchedulesDep) -> None:
    """Delete one of your schedules; it fires no more."""
    with _refusals(schedule_id):
        await schedules.delete(user.id, schedule_id)


@router.post("/{schedule_id}/pause", operation_id="pause_schedule", responses={404: {}})
async def pause_schedule(
    schedule_id: PathId, user: CurrentUser, schedules: SchedulesDep
) -> ScheduleOut:
    """Stop a schedule firing; the ticks while paused are not caught up."""
    with _refusals(schedule_id):
        return ScheduleOut.model_validate(await schedules.pause(user.id, schedule_id))


@router.post("/{schedule_id}/resume", operation_id="resume_schedule", responses={404: {}})
async def resume_schedule(
    schedule_id: PathId, user: CurrentUser, schedules: SchedulesDep
) -> ScheduleOut:
    """Fire a paused schedule again from its next tick on."""
    with _refusals(schedule_id):
        return ScheduleOut.model_validate(await schedules.resume(user.id, schedule_id))
