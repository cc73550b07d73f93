"""The real ``angie daemon`` command for the scheduler lease test, with two changes a test needs:
every schedule ticks each second instead of each minute, and each cron tick this process turns
into an event is written down (``pid tick``) in ``ANGIE_TEST_FIRES``, so the test can tell which
process fired what."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger

import angie.scheduler.runner
import angie.services
from angie.cli.app import cli
from angie.scheduler.jobs import CronFire

_on_cron = angie.services.on_cron


def every_second(_cron: str, _zone: str) -> Any:
    return CronTrigger(second="*", timezone=UTC)


async def recorded(database: Any, events: Any, fire: CronFire) -> None:
    line = f"{os.getpid()} {fire.schedule_id} {fire.scheduled_at.isoformat()}\n"
    await asyncio.to_thread(_append, Path(os.environ["ANGIE_TEST_FIRES"]), line)
    await _on_cron(database, events, fire)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fires:
        fires.write(line)


angie.scheduler.runner.parse_crontab = every_second  # type: ignore[attr-defined,assignment]
angie.services.on_cron = recorded

if __name__ == "__main__":
    sys.exit(cli(["daemon"], prog_name="angie"))
