"""``/api/tasks``: the work Angie did and is doing for you, its audit trail, cancel and retry."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.paging import page_of
from angie.api.schemas import ListParams, Out, Page, PageParams, order_by
from angie.api.validation import MAX_ID, IsoTime, PathId, in_the_loop
from angie.db.models import (
    Agent,
    Approval,
    ApprovalStatus,
    ChannelKind,
    Plan,
    PlanStatus,
    Task,
    TaskKind,
    TaskStatus,
    ToolCall,
    ToolCallOutcome,
)
from angie.errors import Invalid, NotFound
from angie.live import LiveType
from angie.services import Services
from angie.timezones import zone

__all__ = (
    "TASK_SORTS",
    "ApprovalOut",
    "TaskDetail",
    "TaskFilters",
    "TaskOut",
    "TimeRange",
    "ToolCallOut",
    "router",
    "task_page",
    "task_rows",
)

router = APIRouter(prefix="/tasks", tags=["tasks"])
RowId = Annotated[int, Query(ge=1, le=MAX_ID)]
# How deep a task's subtree is walked for its detail; delegations nest a few levels at most.
_MAX_DEPTH = 8


class TaskOut(Out):
    id: int
    kind: TaskKind
    status: TaskStatus
    agent_id: int | None
    agent: str | None
    team_id: int | None
    workflow_id: int | None
    parent_id: int | None
    event_id: int | None
    input: dict[str, Any]
    result: Any | None
    error: str | None
    attempts: int
    max_attempts: int
    channel: ChannelKind | None
    thread: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None


class ToolCallOut(Out):
    id: int
    task_id: int
    server: str
    tool: str
    arguments: dict[str, Any]
    outcome: ToolCallOutcome
    error: str | None
    duration_ms: int | None
    approval_id: int | None
    created_at: datetime


class ApprovalOut(Out):
    id: int
    task_id: int
    server: str
    tool: str
    arguments: dict[str, Any]
    status: ApprovalStatus
    reason: str | None
    asked_because: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None


class PlanStepOut(Out):
    name: str
    ask: str = Field(description="The agent (or team_<name>) that does it.")
    request: str
    after: list[str] = Field(description="The steps it waits for.")
    status: str = Field(description="waiting, running, succeeded or failed.")
    task_id: int | None = Field(description="Its child task, once started.")


class PlanOut(Out):
    id: int
    task_id: int = Field(description="The task whose run made the plan.")
    goal: str
    status: PlanStatus
    steps: list[PlanStepOut] = Field(description="In the order they run.")
    created_at: datetime
    updated_at: datetime


class TaskDetail(TaskOut):
    tool_calls: list[ToolCallOut]
    children: list[TaskOut]
    approvals: list[ApprovalOut]
    plans: list[PlanOut] = Field(
        default_factory=list, description="Plans its runs made (shown before they started)."
    )


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    # A time without an offset is taken as UTC, the zone Angie stores.
    try:
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:
        raise Invalid(
            f"{name} is out of range",
            details=[{"field": f"query: {name}", "message": "out of range in UTC"}],
        ) from None


class TimeRange:
    """``since``/``until`` query parameters, checked to form a window."""

    def __init__(
        self,
        since: Annotated[
            IsoTime | None,
            Query(description="Only those created at or after this ISO time (UTC if no offset)."),
        ] = None,
        until: Annotated[
            IsoTime | None,
            Query(description="Only those created before this ISO time (UTC if no offset)."),
        ] = None,
    ) -> None:
        self.since = _utc(since, "since")
        self.until = _utc(until, "until")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise Invalid(
                "since must be before until",
                details=[{"field": "query: since", "message": "since is not before until"}],
            )

    def conditions(self, column: Any) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(column >= self.since)
        if self.until is not None:
            found.append(column < self.until)
        return found


class TaskFilters:
    """The filters of the task list; each one narrows it further."""

    def __init__(
        self,
        window: Annotated[TimeRange, Depends(in_the_loop(TimeRange))],
        status: Annotated[
            list[TaskStatus] | None, Query(description="Any of these statuses (repeatable).")
        ] = None,
        kind: Annotated[TaskKind | None, Query(description="Only tasks of this kind.")] = None,
        agent_id: Annotated[RowId | None, Query(description="Only tasks of this agent.")] = None,
        team_id: Annotated[RowId | None, Query(description="Only tasks of this team.")] = None,
        workflow_id: Annotated[
            RowId | None, Query(description="Only tasks of this workflow.")
        ] = None,
        top_level: Annotated[
            bool, Query(description="Only tasks no other task started (false: all).")
        ] = True,
    ) -> None:
        self.window = window
        self.status = list(dict.fromkeys(status or ()))
        self.kind = kind
        self.agent_id = agent_id
        self.team_id = team_id
        self.workflow_id = workflow_id
        self.top_level = top_level

    def conditions(self, user_id: int) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [Task.user_id == user_id]
        if self.status:
            found.append(
                Task.status == self.status[0]
                if len(self.status) == 1
                else Task.status.in_(self.status)
            )
        if self.kind is not None:
            found.append(Task.kind == self.kind)
        for column, value in (
            (Task.agent_id, self.agent_id),
            (Task.team_id, self.team_id),
            (Task.workflow_id, self.workflow_id),
        ):
            if value is not None:
                found.append(column == value)
        if self.top_level:
            found.append(Task.parent_id.is_(None))
        return found + self.window.conditions(Task.created_at)


TASK_SORTS = {
    "created_at": Task.created_at,
    "id": Task.id,
    "status": Task.status,
    "finished_at": Task.finished_at,
}
# Only the columns a TaskOut shows: the suspended run's state can be large and is never sent.
_COLUMNS = (
    Task.id,
    Task.kind,
    Task.status,
    Task.agent_id,
    Agent.name.label("agent"),
    Task.team_id,
    Task.workflow_id,
    Task.parent_id,
    Task.event_id,
    Task.input,
    Task.result,
    Task.error,
    Task.attempts,
    Task.max_attempts,
    Task.channel,
    Task.thread,
    Task.created_at,
    Task.updated_at,
    Task.started_at,
    Task.finished_at,
    Task.input_tokens,
    Task.output_tokens,
    Task.cost_usd,
)


def task_rows(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Tasks as TaskOut rows, with their agent's name joined in the same query."""
    return select(*_COLUMNS).outerjoin(Agent, Agent.id == Task.agent_id).where(*conditions)


def task_page(
    user_id: int, filters: TaskFilters, params: PageParams
) -> tuple[Select[Any], Select[Any]]:
    """The page query and the count query of a task list: two statements, no per-row queries."""
    conditions = filters.conditions(user_id)
    page = order_by(task_rows(*conditions), params.sort, TASK_SORTS, "-created_at", Task.id)
    count = select(func.count()).select_from(Task).where(*conditions)
    return page.limit(params.limit).offset(params.offset), count


async def _task_outs(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[TaskOut]:
    rows = await session.execute(task_rows(*conditions).order_by(Task.id))
    return [TaskOut.model_validate(row) for row in rows]


async def _one(session: AsyncSession, task_id: int, user_id: int) -> TaskOut:
    found = await _task_outs(session, Task.id == task_id, Task.user_id == user_id)
    if not found:
        raise NotFound(f"there is no task {task_id}")
    return found[0]


async def _subtree(session: AsyncSession, task_id: int) -> list[int]:
    """The task and every task it started, however deep (bounded)."""
    ids, frontier = [task_id], [task_id]
    for _ in range(_MAX_DEPTH):
        frontier = list(await session.scalars(select(Task.id).where(Task.parent_id.in_(frontier))))
        if not frontier:
            break
        ids += frontier
    return ids


@router.get("", operation_id="list_tasks")
async def list_tasks(
    user: CurrentUser,
    session: SessionDep,
    params: ListParams,
    filters: Annotated[TaskFilters, Depends(in_the_loop(TaskFilters))],
) -> Page[TaskOut]:
    """Your tasks, newest first; filter by status, kind, agent, team, workflow and time."""
    page, count = task_page(user.id, filters, params)
    # Plain rows, not entities: run on the session's connection, past the ORM's row loading.
    connection = await session.connection()
    total = await connection.scalar(count)
    rows = await connection.execute(page)
    return page_of([TaskOut.model_validate(row) for row in rows], int(total or 0), params)


class DayOutcomes(Out):
    """How the person's top-level tasks that ended on one day (in their time zone) ended."""

    day: str = Field(description="The date, YYYY-MM-DD, in your time zone.")
    succeeded: int
    failed: int
    cancelled: int


class TaskStats(Out):
    timezone: str
    days: list[DayOutcomes] = Field(description="Oldest first; today is the last.")


_ENDED = (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED)


@router.get("/stats", operation_id="task_stats")
async def task_stats(
    user: CurrentUser,
    session: SessionDep,
    days: Annotated[
        int, Query(ge=1, le=90, description="How many days back, today included.")
    ] = 14,
) -> TaskStats:
    """How your tasks ended, day by day: the dashboard's chart of successes and failures."""
    where = zone(user.timezone)
    today = datetime.now(where).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), where).astimezone(UTC)
    counted: dict[tuple[date, TaskStatus], int] = {}
    # Grouped by the hour in SQL (a handful of rows a day), into the person's days here: a
    # zone's day boundary is not one SQLite and MySQL could both compute.
    hour = func.strftime("%Y-%m-%d %H", Task.finished_at)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        hour = func.date_format(Task.finished_at, "%Y-%m-%d %H")
    rows = await session.execute(
        select(hour.label("hour"), Task.status, func.count())
        .where(
            Task.user_id == user.id,
            Task.parent_id.is_(None),
            Task.status.in_(_ENDED),
            Task.finished_at >= since,
        )
        .group_by("hour", Task.status)
    )
    for stamp, status, count in rows:
        at = datetime.strptime(f"{stamp}:30", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        key = (at.astimezone(where).date(), TaskStatus(status))
        counted[key] = counted.get(key, 0) + int(count)
    return TaskStats(
        timezone=user.timezone,
        days=[
            DayOutcomes(
                day=(first + timedelta(days=n)).isoformat(),
                **{s.value: counted.get((first + timedelta(days=n), s), 0) for s in _ENDED},
            )
            for n in range(days)
        ],
    )


@router.get("/{task_id}", operation_id="get_task", responses={404: {}})
async def get_task(task_id: PathId, user: CurrentUser, session: SessionDep) -> TaskDetail:
    """One of your tasks with the tool calls, tasks and approvals it led to."""
    task = await _one(session, task_id, user.id)
    ids = await _subtree(session, task_id)
    calls = await session.scalars(
        select(ToolCall).where(ToolCall.task_id.in_(ids)).order_by(ToolCall.id)
    )
    approvals = await session.scalars(
        select(Approval).where(Approval.task_id.in_(ids)).order_by(Approval.id)
    )
    plans = await session.scalars(select(Plan).where(Plan.task_id.in_(ids)).order_by(Plan.id))
    return TaskDetail(
        **task.model_dump(),
        tool_calls=[ToolCallOut.model_validate(c) for c in calls],
        children=await _task_outs(session, Task.parent_id == task_id),
        approvals=[ApprovalOut.model_validate(a) for a in approvals],
        plans=[PlanOut.model_validate(p) for p in plans],
    )


@router.post("/{task_id}/cancel", operation_id="cancel_task", responses={404: {}, 409: {}})
async def cancel_task(task_id: PathId, user: CurrentUser, services: ServicesDep) -> TaskOut:
    """Cancel one of your unfinished tasks and the unfinished tasks it started."""
    await services.tasks.cancel(task_id, user.id)
    await services.live.announce(task_id, LiveType.DONE, status=TaskStatus.CANCELLED.value)
    return await _fresh(services, task_id, user.id)


@router.post("/{task_id}/retry", operation_id="retry_task", responses={404: {}, 409: {}})
async def retry_task(task_id: PathId, user: CurrentUser, services: ServicesDep) -> TaskOut:
    """Queue one of your failed or cancelled tasks again, with a fresh budget of attempts."""
    await services.tasks.retry(task_id, user.id)
    services.queue.enqueue(task_id)
    await services.live.announce(task_id, LiveType.TASK, status=TaskStatus.QUEUED.value)
    return await _fresh(services, task_id, user.id)


async def _fresh(services: Services, task_id: int, user_id: int) -> TaskOut:
    # The service committed the change in a transaction of its own: read it in a new one.
    async with services.database.session() as session:
        return await _one(session, task_id, user_id)
