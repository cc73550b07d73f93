"""A cron trigger that matches wall-clock time in a timezone, right across DST changes.

APScheduler 3.11's ``CronTrigger`` steps over a DST change by adding wall-clock differences in
UTC, which can lose a whole fire: ``0 0 1 * *`` in Europe/Paris asked on 27 March answers 1 May.
Here the search runs on naive wall-clock time, where there is no DST, and only each answer is
placed in the zone. A wall time that happens twice (autumn) fires at its first occurrence; one
that does not exist (spring) fires once the clock has jumped, e.g. 02:30 fires at 03:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

__all__ = ("WallClockTrigger",)

_TICK = timedelta(microseconds=1)


# APScheduler ships no type hints, so its base class is Any to mypy.
class WallClockTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires when ``wall`` (a trigger on naive wall-clock time, kept in UTC) matches ``timezone``.

    Stored jobs pickle their trigger, so this class must stay importable under this name.
    """

    __slots__ = ("timezone", "wall")

    def __init__(self, wall: Any, timezone: ZoneInfo) -> None:
        self.wall = wall
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # APScheduler's contract: strictly after the previous fire (even if that is before now,
        # which is how missed ticks are counted), else at or after now.
        if previous_fire_time is not None:
            start = previous_fire_time.astimezone(UTC) + _TICK
        else:
            start = now.astimezone(UTC)
        wall = start.astimezone(self.timezone).replace(tzinfo=UTC, fold=0)
        while True:
            candidate: datetime | None = self.wall.get_next_fire_time(None, wall)
            if candidate is None:
                return None
            # fold=0: the first occurrence of a repeated wall time, the pre-jump offset of a
            # missing one; the round trip through UTC names that instant as the zone's clock does.
            local = (
                candidate.replace(tzinfo=self.timezone).astimezone(UTC).astimezone(self.timezone)
            )
            # Only in the repeated hour can the first occurrence of a wall time lie before start.
            if local >= start:
                return local
            wall = candidate + _TICK

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "wall": self.wall, "timezone": self.timezone}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version", 1) > 1:
            raise ValueError(
                f"Got a WallClockTrigger of version {state['version']}, this Angie knows 1."
            )
        self.wall = state["wall"]
        self.timezone = state["timezone"]

    def __repr__(self) -> str:
        return f"<WallClockTrigger({self.wall!r}, timezone={self.timezone.key!r})>"

    def __str__(self) -> str:
        return f"{self.wall} in {self.timezone.key}"
