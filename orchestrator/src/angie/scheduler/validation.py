"""Every field of a schedule checked before anything is written; each failure is one sentence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from angie.access import Target, check_target
from angie.db.models import MisfirePolicy, Schedule, User
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


async def check_name_free(
    session: AsyncSession, user_id: int, name: str, *, keep: int | None = None
) -> None:
    """No other schedule of the user has ``name`` (``keep`` is the one being renamed)."""
    query = select(Schedule.id).where(Schedule.user_id == user_id, Schedule.name == name)
    if keep is not None:
        query = query.where(Schedule.id != keep)
    if (await session.scalars(query)).first() is not None:
        raise ScheduleError(f"You already have a schedule named {name!r}.")
