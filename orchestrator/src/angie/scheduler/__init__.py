"""Angie's crons: schedules in the database, fired by one APScheduler in the daemon."""

from angie.scheduler.errors import CronError, ScheduleError, ScheduleNotFound
from angie.scheduler.jobs import CronFire
from angie.scheduler.service import Scheduler

__all__ = ("CronError", "CronFire", "ScheduleError", "ScheduleNotFound", "Scheduler")
