"""Who may see, use and change what, and who does the work: Angie's one access rule.

- Agents, teams and workflows are the household's (no owner: the seeded fleet and what admins
  share) or one person's. Everyone may see and use the household's; only admins change them.
  A person's own are theirs alone.
- Schedules and webhooks always have an owner (the column is required) and are theirs alone.
- To anyone else, another person's thing does not exist: the same "not found" as a missing one.
- With no person (work the household itself started), only the household's may be used.

A :class:`Target` names who does a piece of work: one agent, one team, one workflow, or none
(Angie herself). The API's bodies, the scheduler and the events' payloads all use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import Agent, Schedule, Team, Webhook, Workflow
from angie.errors import Invalid

__all__ = (
    "TARGET_FIELDS",
    "Owned",
    "Target",
    "TargetNotFound",
    "check_target",
    "is_household",
    "may_change",
    "may_use",
    "noun",
    "owner_of",
    "visible_to",
)

Owned = Agent | Team | Workflow | Schedule | Webhook
TargetKind = Literal["agent", "team", "workflow"]

#: The fields that name who does the work; none of them: Angie herself.
TARGET_FIELDS: tuple[str, ...] = ("agent_id", "team_id", "workflow_id")
_TARGET_MODELS: Mapping[str, type[Agent | Team | Workflow]] = {
    "agent_id": Agent,
    "team_id": Team,
    "workflow_id": Workflow,
}
_NOUNS: Mapping[type[Any], str] = {
    Agent: "agent",
    Team: "team",
    Workflow: "workflow",
    Schedule: "schedule",
    Webhook: "webhook",
}
#: The kinds of thing that can be the household's.
_SHAREABLE = (Agent, Team, Workflow)


def noun(model: type[Any]) -> str:
    return _NOUNS[model]


def owner_of(row: Owned) -> int | None:
    return row.user_id


def is_household(row: Owned) -> bool:
    return isinstance(row, _SHAREABLE) and row.user_id is None


def may_use(row: Owned, user_id: int | None) -> bool:
    """The person may see it and have it do work: the household's or their own (with no
    person, only the household's)."""
    return is_household(row) or (user_id is not None and row.user_id == user_id)


def may_change(row: Owned, user_id: int, *, is_admin: bool) -> bool:
    """The household's are changed by admins; a person's own by that person."""
    return is_admin if is_household(row) else row.user_id == user_id


def visible_to(model: type[Owned], user_id: int | None) -> ColumnElement[bool]:
    """The same rule as :func:`may_use`, as a query condition."""
    mine = model.user_id == user_id if user_id is not None else false()
    return or_(model.user_id.is_(None), mine) if model in _SHAREABLE else mine


class TargetNotFound(Invalid):
    """A target names an agent, team or workflow that does not exist or is not the person's
    to use; ``field`` names which."""

    def __init__(self, field: str, row_id: int) -> None:
        what = _NOUNS[_TARGET_MODELS[field]]
        message = f"there is no {what} {row_id} you can use"
        super().__init__(message, details=[{"field": f"body: {field}", "message": message}])
        self.field = field


@dataclass(frozen=True, slots=True)
class Target:
    """Who does a piece of work: at most one of an agent, a team or a workflow."""

    agent_id: int | None = None
    team_id: int | None = None
    workflow_id: int | None = None

    def __post_init__(self) -> None:
        named = [key for key, value in self.fields().items() if value is not None]
        if len(named) > 1:
            raise Invalid(
                "the work goes to one agent, one team or one workflow, not several: name at "
                f"most one of agent_id, team_id, workflow_id (got {', '.join(named)})"
            )

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Target:
        """The target named by ``agent_id``/``team_id``/``workflow_id`` in a body, a row or an
        event's payload (other keys are ignored)."""
        found = {key: values.get(key) for key in TARGET_FIELDS}
        return cls(**{key: None if value is None else int(value) for key, value in found.items()})

    @property
    def is_none(self) -> bool:
        return self.agent_id is None and self.team_id is None and self.workflow_id is None

    @property
    def kind(self) -> TargetKind | None:
        for key, value in self.fields().items():
            if value is not None:
                return key.removesuffix("_id")  # type: ignore[return-value]
        return None

    @property
    def id(self) -> int | None:
        return self.agent_id or self.team_id or self.workflow_id

    def fields(self) -> dict[str, int | None]:
        return {"agent_id": self.agent_id, "team_id": self.team_id, "workflow_id": self.workflow_id}

    def given(self) -> dict[str, int]:
        """Only the field that is set (for a payload); empty for Angie herself."""
        return {key: value for key, value in self.fields().items() if value is not None}


async def check_target(session: AsyncSession, user_id: int | None, target: Target) -> None:
    """The target names something the person may use; otherwise :class:`TargetNotFound`,
    worded alike whether it is someone else's or does not exist."""
    for field, row_id in target.given().items():
        model = _TARGET_MODELS[field]
        row = await session.get(model, row_id)
        # Not an instance: there is no such row (isinstance also tells the type checker).
        if not isinstance(row, model) or not may_use(row, user_id):
            raise TargetNotFound(field, row_id)
