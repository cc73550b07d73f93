"""Every field of a schedule checked before anything is written; each failure is one sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from angie.db.models import Agent, MisfirePolicy, Schedule, Team, User, Workflow
from angie.scheduler.crontab import normalise, parse_crontab
from angie.scheduler.errors import CronError, ScheduleError
from angie.scheduler.misfire import MAX_GRACE_SECONDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.scheduler.trigger import WallClockTrigger

__all__ = (
    "MAX_INSTRUCTION",
    "MAX_NAME",
    "Target",
    "check_cron",
    "check_grace",
    "check_instruction",
    "check_name",
    "check_name_free",
    "check_policy",
    "check_target",
    "check_user",
)

MAX_NAME = 120  # schedules.name
MAX_CRON = 120  # schedules.cron
# schedules.instruction is TEXT: 64 KiB on MySQL, up to 4 bytes a character in utf8mb4.
MAX_INSTRUCTION = 16_000


@dataclass(frozen=True, slots=True)
class Target:
    """Who runs a schedule: one agent, one team, one workflow, or none (Angie herself)."""

    agent_id: int | None = None
    team_id: int | None = None
    workflow_id: int | None = None

    @property
    def is_none(self) -> bool:
        return self.agent_id is None and self.team_id is None and self.workflow_id is None


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ScheduleError("A schedule needs a name.")
    if len(name) > MAX_NAME:
        raise ScheduleError(f"A schedule's name is at most {MAX_NAME} characters.")
    return name


def check_cron(cron: str, timezone: str) -> tuple[str, WallClockTrigger]:
    """The crontab as stored, and its trigger; a bad field or timezone is a ``CronError``."""
    trigger = parse_crontab(cron, timezone)
    cron = normalise(cron)
    if len(cron) > MAX_CRON:
        raise CronError(f"A crontab is at most {MAX_CRON} characters.", field="crontab")
    return cron, trigger


def check_policy(policy: MisfirePolicy | str) -> MisfirePolicy:
    try:
        return MisfirePolicy(policy)
    except ValueError as err:
        choices = " or ".join(repr(p.value) for p in MisfirePolicy)
        raise ScheduleError(f"The misfire policy must be {choices}, not {policy!r}.") from err


def check_grace(seconds: int) -> int:
    if isinstance(seconds, bool) or not 0 <= seconds <= MAX_GRACE_SECONDS:
        raise ScheduleError(
            f"The misfire grace must be between 0 and {MAX_GRACE_SECONDS} seconds (31 days)."
        )
    return seconds


def check_instruction(instruction: str, target: Target) -> str:
    instruction = instruction.strip()
    if len(instruction) > MAX_INSTRUCTION:
        raise ScheduleError(f"An instruction is at most {MAX_INSTRUCTION:,} characters.")
    if not instruction and target.is_none:
        raise ScheduleError(
            "A schedule without an agent, team or workflow needs an instruction for Angie."
        )
    return instruction


async def check_user(session: AsyncSession, user_id: int) -> None:
    if await session.get(User, user_id) is None:
        raise ScheduleError(f"User {user_id} was not found.")


async def check_target(session: AsyncSession, user_id: int, target: Target) -> None:
    chosen = [t for t in (target.agent_id, target.team_id, target.workflow_id) if t is not None]
    if len(chosen) > 1:
        raise ScheduleError("A schedule runs one agent, one team or one workflow, not several.")
    # Agents and teams are the household's (no creator) or the user's own; anyone else's
    # private one is "not found", exactly like one that does not exist.
    if target.agent_id is not None:
        agent = await session.get(Agent, target.agent_id)
        if agent is None or agent.created_by_id not in {None, user_id}:
            raise ScheduleError(f"Agent {target.agent_id} was not found.")
    if target.team_id is not None:
        team = await session.get(Team, target.team_id)
        if team is None or team.created_by_id not in {None, user_id}:
            raise ScheduleError(f"Team {target.team_id} was not found.")
    if target.workflow_id is not None:
        workflow = await session.get(Workflow, target.workflow_id)
        # Workflows are the user's own or the household's (user_id NULL).
        if workflow is None or workflow.user_id not in {None, user_id}:
            raise ScheduleError(f"Workflow {target.workflow_id} was not found.")


async def check_name_free(
    session: AsyncSession, user_id: int, name: str, *, keep: int | None = None
) -> None:
    """No other schedule of the user has ``name`` (``keep`` is the one being renamed)."""
    query = select(Schedule.id).where(Schedule.user_id == user_id, Schedule.name == name)
    if keep is not None:
        query = query.where(Schedule.id != keep)
    if (await session.scalars(query)).first() is not None:
        raise ScheduleError(f"You already have a schedule named {name!r}.")
