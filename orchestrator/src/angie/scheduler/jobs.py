"""What a stored job runs: ``fire(schedule_id)``, which hands the tick to the running scheduler.

APScheduler pickles a job as a reference to an importable function plus its arguments, so the
function cannot carry the scheduler with it: it finds the one scheduler running in this process
here. That scheduler turns the tick into a :class:`CronFire` for its ``emit`` callback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ("FIRE", "CronFire", "Emit", "Runner", "attach", "detach", "fire", "job_id")

#: The textual reference stored in every job.
FIRE = "angie.scheduler.jobs:fire"


@dataclass(frozen=True, slots=True)
class CronFire:
    """One tick of a schedule; ``catch_up`` marks a run made late, after downtime."""

    schedule_id: int
    user_id: int
    scheduled_at: datetime
    fired_at: datetime
    catch_up: bool


Emit = Callable[[CronFire], Awaitable[None]]


class Runner(Protocol):
    async def run(self, schedule_id: int) -> None: ...


_running: Runner | None = None


def job_id(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


def attach(runner: Runner) -> None:
    """Make ``runner`` the process's scheduler; there is one per process, in the daemon."""
    global _running
    if _running is not None and _running is not runner:
        raise RuntimeError("another Angie scheduler is already running in this process")
    _running = runner


def detach(runner: Runner) -> None:
    global _running
    if _running is runner:
        _running = None


async def fire(schedule_id: int) -> None:
    """The job function of every schedule."""
    runner = _running
    if runner is None:
        # APScheduler records this as the job's error; it cannot happen while it is running.
        raise RuntimeError(f"schedule {schedule_id} fired with no Angie scheduler running")
    await runner.run(schedule_id)
