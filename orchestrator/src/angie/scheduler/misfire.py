"""What a tick missed while Angie was down does: each policy as APScheduler job options.

A tick that runs within :data:`ON_TIME` of its scheduled time is on time, not a catch-up: the
loop may be a little late to wake, and ``skip`` must not drop a tick for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from angie.db.models import MisfirePolicy

__all__ = ("MAX_GRACE_SECONDS", "ON_TIME", "JobOptions", "is_catch_up", "job_options")

ON_TIME = timedelta(seconds=30)
# A month: a missed monthly report may still be worth one late run, a year-old tick is not.
MAX_GRACE_SECONDS = 31 * 24 * 3600


@dataclass(frozen=True, slots=True)
class JobOptions:
    """The options frozen into a stored job; a change means the job must be re-added."""

    coalesce: bool
    misfire_grace_time: int


def job_options(policy: MisfirePolicy, grace_seconds: int) -> JobOptions:
    """``run_once``: one run for all the ticks missed, if the latest is within the grace.

    ``skip``: the missed ticks are dropped and the next regular tick runs. Both coalesce, so
    however long Angie was down, at most one run follows.
    """
    on_time = int(ON_TIME.total_seconds())
    if policy is MisfirePolicy.RUN_ONCE:
        return JobOptions(coalesce=True, misfire_grace_time=max(grace_seconds, on_time))
    return JobOptions(coalesce=True, misfire_grace_time=on_time)


def is_catch_up(scheduled_at: datetime, fired_at: datetime) -> bool:
    """A run is a catch-up when it starts well after its tick, i.e. after downtime."""
    return fired_at - scheduled_at > ON_TIME
