"""Events in, tasks out: every event is stored once (deduplicated by delivery id) and routed by
rules: messages go to Angie; crons, webhooks and API calls to their agent, team or workflow."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from angie.access import Target
from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import (
    ChannelKind,
    Event,
    EventStatus,
    EventType,
    Task,
    TaskKind,
    TaskStatus,
)
from angie.tasks.service import TaskService

__all__ = ("ANGIE", "EventRouter", "NewEvent", "Route", "Rule", "default_rules", "target_of")

log = logging.getLogger(__name__)

_KINDS: dict[str | None, TaskKind] = {
    None: TaskKind.CHAT,
    "agent": TaskKind.AGENT,
    "team": TaskKind.TEAM,
    "workflow": TaskKind.WORKFLOW,
}
#: The work is Angie's own (no agent, team or workflow named).
ANGIE = Target()
# Content from outside the household: its tasks may only read until the user approves more.
UNTRUSTED_TYPES = frozenset({EventType.WEBHOOK})


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: EventType
    source: str
    user_id: int | None = None
    channel: ChannelKind | None = None
    thread: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    event: Event
    task: Task | None
    created: bool


def target_of(event: Event) -> Target:
    """The agent, team or workflow an event names (``agent_id``/``team_id``/``workflow_id``)."""
    return Target.of(event.payload)


@dataclass(frozen=True, slots=True)
class Rule:
    """First match wins: events of ``type`` from a source matching ``source`` (a glob); the
    target ``None`` means the event is recorded and ignored."""

    type: EventType
    target: Callable[[Event], Target | None]
    source: str = "*"

    def matches(self, event: Event) -> bool:
        return event.type is self.type and fnmatch.fnmatchcase(event.source, self.source)


def default_rules() -> list[Rule]:
    return [
        Rule(EventType.MESSAGE, lambda _e: ANGIE),
        Rule(EventType.CRON, target_of),
        Rule(EventType.WEBHOOK, target_of),
        Rule(EventType.API, target_of),
        Rule(EventType.SYSTEM, lambda _e: None),
    ]


class EventRouter:
    def __init__(
        self,
        database: Database,
        tasks: TaskService,
        enqueue: Callable[[int], None],
        rules: Sequence[Rule] | None = None,
    ) -> None:
        self.db = database
        self.tasks = tasks
        self._enqueue = enqueue
        self.rules = list(rules if rules is not None else default_rules())

    async def accept(self, new: NewEvent) -> Route:
        """Store the event and route it; the same delivery id twice is one event, one task.

        The event, its routing and its task are written in one transaction: a queued task
        always has its event marked routed, and an event is never left half-routed."""
        event = Event(
            type=new.type,
            source=new.source,
            user_id=new.user_id,
            channel=new.channel,
            thread=new.thread,
            payload=new.payload,
            dedupe_key=new.dedupe_key,
        )
        task: Task | None = None
        try:
            async with self.db.session() as session:
                target = self._target(event)
                event.status = EventStatus.IGNORED if target is None else EventStatus.ROUTED
                event.processed_at = utcnow()
                session.add(event)
                if target is not None:
                    await session.flush()  # the event's id names its task's idempotency key
                    task = self._task_for(event, target)
                    session.add(task)
        except IntegrityError:
            if new.dedupe_key is None:
                raise
            async with self.db.session() as session:
                earlier = (
                    await session.scalars(select(Event).where(Event.dedupe_key == new.dedupe_key))
                ).one_or_none()
            if earlier is None:
                raise  # not a second delivery: the task itself was refused
            event = earlier
            task = await self.tasks.by_key(f"event:{event.id}")
            log.info("event %s delivered again (%s): not routed twice", event.id, new.dedupe_key)
            return Route(event, task, created=False)
        if task is not None:
            self._enqueue(task.id)
        return Route(event, task, created=task is not None)

    def _target(self, event: Event) -> Target | None:
        for rule in self.rules:
            if rule.matches(event):
                return rule.target(event)
        return None

    @staticmethod
    def _task_for(event: Event, target: Target) -> Task:
        """The queued task an event asks for."""
        payload = event.payload
        task_input: dict[str, Any] = {
            "text": str(payload.get("text") or payload.get("instruction") or ""),
            "event_type": event.type.value,
        }
        untrusted = event.type in UNTRUSTED_TYPES or bool(payload.get("untrusted"))
        if untrusted:
            task_input["untrusted"] = True
        if "body" in payload:
            task_input["data"] = payload["body"]
        if event.type is EventType.MESSAGE and "context" in payload:
            # What the person was looking at as they said it (see angie.api.page_context).
            task_input["context"] = payload["context"]
        return Task(
            kind=_KINDS[target.kind],
            user_id=event.user_id,
            input=task_input,
            idempotency_key=f"event:{event.id}",
            status=TaskStatus.QUEUED,
            event_id=event.id,
            channel=event.channel,
            # Work started from outside talks in its own thread, so what it writes is never
            # read back as the person's own conversation (no laundering through memory).
            thread=event.thread or (f"outside:{event.source}"[:255] if untrusted else None),
            **target.fields(),
        )
