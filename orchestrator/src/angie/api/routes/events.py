"""``/api/events``: what happened to Angie on your behalf, your coming crons, and new API events."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import Field, model_validator
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.paging import page_of
from angie.api.routes.tasks import TimeRange
from angie.api.schemas import Body, ListParams, Out, Page, order_by
from angie.api.validation import PathId, RowId, in_the_loop
from angie.api.visibility import TARGET_FIELDS, at_most_one_target, check_target
from angie.db.base import utcnow
from angie.db.models import ChannelKind, Event, EventStatus, EventType, Schedule, Task
from angie.errors import NotFound
from angie.events.router import NewEvent
from angie.scheduler.crontab import parse_crontab
from angie.scheduler.errors import CronError
from angie.scheduler.trigger import WallClockTrigger
from angie.scheduler.validation import MAX_INSTRUCTION

__all__ = (
    "CronTickOut",
    "EventIn",
    "EventOut",
    "SubmittedOut",
    "UpcomingOut",
    "event_out",
    "event_rows",
    "router",
    "upcoming_ticks",
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/events", tags=["events"])


class EventOut(Out):
    id: int
    type: EventType
    source: str
    status: EventStatus
    channel: ChannelKind | None
    thread: str | None
    payload: dict[str, Any]
    error: str | None
    task_id: int | None = Field(description="The task this event created, if any.")
    created_at: datetime
    processed_at: datetime | None


class CronTickOut(Out):
    schedule_id: int
    name: str
    at: datetime = Field(description="When it fires, in the schedule's own timezone.")
    cron: str


class UpcomingOut(Out):
    hours: int
    items: list[CronTickOut]
    truncated: bool = Field(description="More runs fall in the window than the limit shows.")


class EventIn(Body):
    instruction: str = Field(max_length=MAX_INSTRUCTION, description="What to do.")
    agent_id: RowId | None = None
    team_id: RowId | None = None
    workflow_id: RowId | None = None
    payload: dict[str, Any] | None = Field(
        default=None, description="Data for the work, handed to it alongside the instruction."
    )

    @property
    def target(self) -> dict[str, int]:
        """The target field given, by name (none: the event is for Angie herself)."""
        return self.model_dump(include=set(TARGET_FIELDS), exclude_none=True)

    @model_validator(mode="after")
    def _one_target(self) -> EventIn:
        at_most_one_target(self.target)
        if not self.instruction and not self.target:
            raise ValueError("an event for Angie herself needs an instruction")
        return self


class SubmittedOut(Out):
    event_id: int
    task_id: int | None


def event_rows(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Events with the id of the task each created (the one without a parent), in one query."""
    created = (
        select(func.min(Task.id))
        .where(Task.event_id == Event.id, Task.parent_id.is_(None))
        .scalar_subquery()
        .label("task_id")
    )
    return select(Event, created).where(*conditions)


def event_out(event: Event, task_id: int | None) -> EventOut:
    fields = {name: getattr(event, name) for name in EventOut.model_fields if name != "task_id"}
    return EventOut.model_validate({**fields, "task_id": task_id})


def _ticks(
    schedule: Schedule, trigger: WallClockTrigger, after: datetime, until: datetime | None
) -> Iterator[CronTickOut]:
    previous: datetime | None = None
    while True:
        at: datetime | None = trigger.get_next_fire_time(previous, after)
        if at is None or (until is not None and at >= until):
            return
        yield CronTickOut(schedule_id=schedule.id, name=schedule.name, at=at, cron=schedule.cron)
        previous = at


async def upcoming_ticks(
    session: AsyncSession, user_id: int, *, after: datetime, until: datetime | None, limit: int
) -> tuple[list[CronTickOut], bool]:
    """The user's next runs across their enabled schedules, soonest first; and whether more fall
    before ``until`` than ``limit``. Computed from the crontabs, so any process can answer."""
    schedules = await session.scalars(
        select(Schedule).where(Schedule.user_id == user_id, Schedule.enabled.is_(True))
    )
    runs: list[Iterator[CronTickOut]] = []
    for schedule in schedules:
        try:
            trigger = parse_crontab(schedule.cron, schedule.timezone)
        except CronError as err:
            log.warning("schedule %s has no upcoming runs: %s", schedule.id, err)
            continue
        runs.append(_ticks(schedule, trigger, after, until))
    # The merge is lazy: each tick costs a trigger step, so only about limit + schedules are made.
    merged = list(islice(heapq.merge(*runs, key=lambda t: (t.at, t.schedule_id)), limit + 1))
    return merged[:limit], len(merged) > limit


@router.get("", operation_id="list_events")
async def list_events(
    user: CurrentUser,
    session: SessionDep,
    params: ListParams,
    window: Annotated[TimeRange, Depends(in_the_loop(TimeRange))],
    type: Annotated[EventType | None, Query(description="Only events of this type.")] = None,
    status: Annotated[EventStatus | None, Query(description="Only events in this state.")] = None,
) -> Page[EventOut]:
    """Your events, newest first; filter by type, status and time."""
    conditions = [Event.user_id == user.id, *window.conditions(Event.created_at)]
    if type is not None:
        conditions.append(Event.type == type)
    if status is not None:
        conditions.append(Event.status == status)
    stmt = order_by(
        event_rows(*conditions),
        params.sort,
        {"created_at": Event.created_at, "id": Event.id},
        "-created_at",
        Event.id,
    )
    total = await session.scalar(select(func.count()).select_from(Event).where(*conditions))
    rows = await session.execute(stmt.limit(params.limit).offset(params.offset))
    return page_of([event_out(event, task_id) for event, task_id in rows], int(total or 0), params)


@router.get("/upcoming", operation_id="list_upcoming_runs")
async def list_upcoming(
    user: CurrentUser,
    session: SessionDep,
    hours: Annotated[int, Query(ge=1, le=168, description="How far ahead to look.")] = 24,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many runs.")] = 50,
) -> UpcomingOut:
    """The coming runs of your enabled schedules in the next hours, soonest first."""
    now = utcnow()
    items, truncated = await upcoming_ticks(
        session, user.id, after=now, until=now + timedelta(hours=hours), limit=limit
    )
    return UpcomingOut(hours=hours, items=items, truncated=truncated)


@router.get("/{event_id}", operation_id="get_event", responses={404: {}})
async def get_event(event_id: PathId, user: CurrentUser, session: SessionDep) -> EventOut:
    """One of your events."""
    row = (
        await session.execute(event_rows(Event.id == event_id, Event.user_id == user.id))
    ).one_or_none()
    if row is None:
        raise NotFound(f"there is no event {event_id}")
    return event_out(*row)


@router.post(
    "",
    operation_id="submit_event",
    status_code=status.HTTP_202_ACCEPTED,
    responses={422: {"description": "Invalid, or an agent, team or workflow you cannot use"}},
)
async def submit_event(
    body: EventIn, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> SubmittedOut:
    """Ask Angie, an agent, a team or a workflow to do something; the work runs on the queue."""
    await check_target(session, user, body.target)
    payload: dict[str, Any] = {"instruction": body.instruction, **body.target}
    if body.payload is not None:
        # Under "body", the router hands it to the work as data; it cannot change the target.
        payload["body"] = body.payload
    route = await services.submit(
        NewEvent(
            EventType.API,
            source="api",
            user_id=user.id,
            channel=ChannelKind.API,
            payload=payload,
        )
    )
    return SubmittedOut(event_id=route.event.id, task_id=route.task.id if route.task else None)
