"""The scheduler's one error tree: each message is one sentence the user can act on."""

from __future__ import annotations

__all__ = ("CronError", "ScheduleError", "ScheduleNotFound")


class ScheduleError(Exception):
    """A schedule cannot be created, changed or found; nothing was written."""


class CronError(ScheduleError):
    """A crontab or timezone is invalid; ``field`` names the part that is wrong."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ScheduleNotFound(ScheduleError):
    """No such schedule for this user (another user's schedules are not found either)."""
