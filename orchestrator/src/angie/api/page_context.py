"""What the person is looking at while they chat (a task, a workflow, an agent, a team, an event):
checked against what they may see and told to Angie as a short note.

The note is read from the database for the signed-in person only: someone else's task or event,
or another person's own agent, is refused exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie import access
from angie.api.schemas import Body
from angie.api.validation import RowId
from angie.db.models import (
    Agent,
    Event,
    EventType,
    Task,
    Team,
    ToolCall,
    User,
    Workflow,
)
from angie.errors import Invalid

__all__ = ("PageContext", "Subject", "describe")

SubjectKind = Literal["task", "workflow", "agent", "team", "event"]
# Enough for "why did this fail?" without crowding the person's words out of the prompt.
_SHORT = 300
_LONG = 1_000
_CALLS = 5


class PageContext(Body):
    """What the person is looking at; Angie is told about it with the message."""

    kind: SubjectKind = Field(description="What kind of thing the page shows.")
    id: RowId = Field(description="Its id.")


@dataclass(frozen=True, slots=True)
class Subject:
    """The note for Angie's prompt; ``tainted_by`` names the outside content it quotes, if any."""

    kind: SubjectKind
    id: int
    note: str
    tainted_by: str | None = None

    def payload(self) -> dict[str, object]:
        found: dict[str, object] = {"kind": self.kind, "id": self.id, "note": self.note}
        if self.tainted_by is not None:
            found["tainted_by"] = self.tainted_by
        return found


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _missing(context: PageContext) -> Invalid:
    message = f"there is no {context.kind} {context.id} you can see"
    return Invalid(message, details=[{"field": "body: context.id", "message": message}])


async def _task(session: AsyncSession, user: User, context: PageContext) -> Subject:
    task = await session.get(Task, context.id)
    if task is None or task.user_id != user.id:
        raise _missing(context)
    target = access.Target.of(
        {"agent_id": task.agent_id, "team_id": task.team_id, "workflow_id": task.workflow_id}
    )
    runner = f"{target.kind} {target.id}" if target.kind is not None else "Angie"
    lines = [
        f"The person is looking at task {task.id}: {_a(task.kind.value.replace('_', ' '))} "
        f"task run by {runner}, "
        f"{task.status.value.replace('_', ' ')} after {task.attempts} of "
        f"{task.max_attempts} attempts."
    ]
    asked = str(task.input.get("text") or "")
    if asked:
        lines.append(f"Asked: {_clip(asked, _SHORT)}")
    if task.error:
        lines.append(f"Error: {_clip(task.error, _LONG)}")
    calls = (
        await session.scalars(
            select(ToolCall)
            .where(ToolCall.task_id == task.id)
            .order_by(ToolCall.id.desc())
            .limit(_CALLS)
        )
    ).all()
    for call in reversed(calls):
        said = f": {_clip(call.error, _SHORT)}" if call.error else ""
        lines.append(f"Tool call {call.server}.{call.tool} → {call.outcome.value}{said}")
    outside = task.tainted_by or (
        f"a {task.input.get('event_type') or 'message'} from outside"
        if task.input.get("untrusted")
        else None
    )
    tainted_by = f"task {task.id} ({outside})" if outside is not None else None
    return Subject("task", task.id, "\n".join(lines), tainted_by)


async def _workflow(session: AsyncSession, user: User, context: PageContext) -> Subject:
    workflow = await session.get(Workflow, context.id)
    if workflow is None or not access.may_use(workflow, user.id):
        raise _missing(context)
    lines = [
        f"The person is looking at workflow {workflow.id} {workflow.name!r}"
        f" ({'enabled' if workflow.enabled else 'disabled'}, {len(workflow.steps)} steps)."
    ]
    if workflow.description:
        lines.append(f"Description: {_clip(workflow.description, _SHORT)}")
    for number, step in enumerate(workflow.steps, 1):
        runner = f"agent {step.agent_id}" if step.agent_id is not None else f"team {step.team_id}"
        lines.append(
            f"Step {number} {step.name!r} by {runner}, on failure {step.on_failure.value}: "
            f"{_clip(step.instruction, _SHORT)}"
        )
    return Subject("workflow", workflow.id, "\n".join(lines))


async def _fleet(session: AsyncSession, user: User, context: PageContext) -> Subject:
    """An agent (with its MCP servers) or a team (with its members) the person may use."""
    row: Agent | Team | None = await session.get(
        Agent if context.kind == "agent" else Team, context.id
    )
    if row is None or not access.may_use(row, user.id):
        raise _missing(context)
    if isinstance(row, Agent):
        parts = f"MCP servers: {', '.join(sorted(s.name for s in row.servers)) or 'none'}"
    else:
        parts = f"members: {', '.join(m.agent.name for m in row.members) or 'none'}"
    lines = [
        f"The person is looking at {context.kind} {row.id} {row.name!r}"
        f" ({'enabled' if row.enabled else 'disabled'}; {parts})."
    ]
    if row.description:
        lines.append(f"Description: {_clip(row.description, _SHORT)}")
    return Subject(context.kind, row.id, "\n".join(lines))


async def _event(session: AsyncSession, user: User, context: PageContext) -> Subject:
    event = await session.get(Event, context.id)
    if event is None or event.user_id != user.id:
        raise _missing(context)
    task = await session.scalar(
        select(Task)
        .where(Task.event_id == event.id, Task.parent_id.is_(None))
        .order_by(Task.id)
        .limit(1)
    )
    lines = [
        f"The person is looking at event {event.id}: {_a(event.type.value)} event from "
        f"{event.source}, {event.status.value}."
    ]
    if event.error:
        lines.append(f"Error: {_clip(event.error, _SHORT)}")
    if task is not None:
        lines.append(f"It started task {task.id}, now {task.status.value.replace('_', ' ')}.")
        if task.error:
            lines.append(f"The task's error: {_clip(task.error, _LONG)}")
    # A webhook's body is not quoted: only where it came from and what became of it.
    outside = f"event {event.id} (a webhook)" if event.type is EventType.WEBHOOK else None
    return Subject("event", event.id, "\n".join(lines), outside)


_DESCRIBE = {
    "task": _task,
    "workflow": _workflow,
    "agent": _fleet,
    "team": _fleet,
    "event": _event,
}


async def describe(session: AsyncSession, user: User, context: PageContext) -> Subject:
    """The note about what the person is looking at; a 422 when it is not theirs to see."""
    return await _DESCRIBE[context.kind](session, user, context)
