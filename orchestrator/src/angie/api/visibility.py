"""The API's side of :mod:`angie.access`: loading an agent, team, workflow or webhook the person
may see or answering 404, checking the target a request names (422), and what still uses one
before it is deleted (409)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from angie import access
from angie.access import TARGET_FIELDS, Target
from angie.db.models import Agent, Schedule, Team, User, Webhook, Workflow, WorkflowStep
from angie.errors import Conflict, Forbidden, Invalid, NotFound

__all__ = (
    "TARGET_FIELDS",
    "agents_visible_to",
    "at_most_one_target",
    "check_may_change",
    "check_target",
    "delete_unless_used",
    "may_use",
    "owned",
    "teams_visible_to",
    "visible",
    "workflows_visible_to",
)


def agents_visible_to(user: User) -> ColumnElement[bool]:
    """Household agents and the person's own."""
    return access.visible_to(Agent, user.id)


def teams_visible_to(user: User) -> ColumnElement[bool]:
    """Household teams and the person's own."""
    return access.visible_to(Team, user.id)


def workflows_visible_to(user: User) -> ColumnElement[bool]:
    """Household workflows and the person's own."""
    return access.visible_to(Workflow, user.id)


def may_use(row: Agent | Team | Workflow, user: User) -> bool:
    return access.may_use(row, user.id)


def check_may_change(row: Agent | Team | Workflow, user: User, verb: str = "change") -> None:
    """A household agent, team or workflow is everyone's: only admins change or delete it
    (403)."""
    if not access.may_change(row, user.id, is_admin=user.is_admin):
        raise Forbidden(f"only an admin can {verb} a household {access.noun(type(row))}")


async def visible[R: (Agent, Team, Workflow)](
    session: AsyncSession, model: type[R], row_id: int, user: User
) -> R:
    """The agent, team or workflow, if the person may see it; a 404 otherwise."""
    row = await session.get(model, row_id)
    if row is None or not access.may_use(row, user.id):
        raise NotFound(f"there is no {access.noun(model)} {row_id}")
    return row


async def owned[R: (Workflow, Webhook)](
    session: AsyncSession, model: type[R], row_id: int, user: User
) -> R:
    """The person's own workflow or webhook; a 404 otherwise."""
    row = await session.get(model, row_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"there is no {access.noun(model)} {row_id}")
    return row


def at_most_one_target(values: Mapping[str, Any]) -> None:
    """A body validator: at most one of the target fields is given."""
    try:
        Target.of(values)
    except Invalid as err:
        raise ValueError(err.message) from None


async def check_target(session: AsyncSession, user: User, values: Mapping[str, Any]) -> None:
    """Each target field given names something the person may use; otherwise a 422 on that
    field, worded alike whether it is someone else's or does not exist."""
    await access.check_target(session, user.id, Target.of(values))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


async def _in_use(
    session: AsyncSession,
    user: User,
    step_column: InstrumentedAttribute[Any] | None,
    schedule_column: InstrumentedAttribute[Any],
    target_id: int,
) -> str | None:
    """What still runs the target (workflows, schedules), named where they are the person's."""
    parts: list[str] = []
    if step_column is not None:
        workflows = (
            await session.execute(
                select(Workflow.name, Workflow.user_id)
                .join(WorkflowStep, WorkflowStep.workflow_id == Workflow.id)
                .where(step_column == target_id)
                .distinct()
            )
        ).all()
        parts += [f"workflow {name!r}" for name, owner in workflows if owner == user.id]
        others = sum(1 for _, owner in workflows if owner != user.id)
        if others:
            parts.append(_plural(others, "workflow") + " of other people")
    schedules = (
        await session.execute(
            select(Schedule.name, Schedule.user_id).where(schedule_column == target_id)
        )
    ).all()
    parts += [f"schedule {name!r}" for name, owner in schedules if owner == user.id]
    others = sum(1 for _, owner in schedules if owner != user.id)
    if others:
        parts.append(_plural(others, "schedule") + " of other people")
    return ", ".join(parts) or None


async def delete_unless_used(
    session: AsyncSession,
    user: User,
    row: Agent | Team | Workflow,
    *,
    step_column: InstrumentedAttribute[Any] | None,
    schedule_column: InstrumentedAttribute[Any],
    used: str = "is used by",
) -> None:
    """Delete an agent, team or workflow that no workflow step or schedule uses; a 409 naming
    what does otherwise."""
    noun = access.noun(type(row))
    users = await _in_use(session, user, step_column, schedule_column, row.id)
    if users:
        raise Conflict(
            f"{noun} {row.name!r} {used} {users}; change or delete those first",
            details=[{"field": f"{noun}_id", "message": users}],
        )
    await session.delete(row)
    try:
        await session.flush()
    except IntegrityError as err:
        # A workflow step or schedule took it up since the check (RESTRICT keeps it).
        raise Conflict(f"{noun} {row.name!r} is in use; change what uses it first") from err
