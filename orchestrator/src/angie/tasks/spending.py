"""What a person's tasks used of the language model in a day (UTC): tokens and known cost,
summed over every task of theirs, delegations included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import EventType, Task

__all__ = ("UNATTENDED", "DaySpending", "spent_on")

# Work nobody is waiting for: it pauses once the person's daily budget is spent.
UNATTENDED = frozenset({EventType.CRON.value, EventType.WEBHOOK.value})


@dataclass(frozen=True, slots=True)
class DaySpending:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)


async def spent_on(session: AsyncSession, user_id: int, day: datetime) -> DaySpending:
    """The person's spending on the (UTC) day of ``day``, by the tasks created that day."""
    start = datetime.combine(day.date(), time.min, tzinfo=day.tzinfo)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Task.input_tokens), 0),
                func.coalesce(func.sum(Task.output_tokens), 0),
                func.coalesce(func.sum(Task.cost_usd), 0),
            ).where(Task.user_id == user_id, Task.created_at >= start)
        )
    ).one()
    return DaySpending(int(row[0] or 0), int(row[1] or 0), Decimal(str(row[2] or 0)))
