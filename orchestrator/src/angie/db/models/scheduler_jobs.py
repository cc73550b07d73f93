"""The scheduler's job store: APScheduler's own table, created by Alembic instead of by APScheduler.

The columns are the ones ``SQLAlchemyJobStore`` declares, with the types it gets on each
database (its FLOAT(25) is a DOUBLE on MySQL, its LargeBinary a BLOB), so a store pointed at
this table finds it as it would have made it. Angie's code never reads ``job_state``: the
``schedules`` table is the source of truth and the scheduler mirrors it here.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlalchemy.dialects import mysql

from angie.db.base import Base

__all__ = ("SCHEDULER_JOBS", "scheduler_jobs")

SCHEDULER_JOBS = "scheduler_jobs"

scheduler_jobs = Table(
    SCHEDULER_JOBS,
    Base.metadata,
    # 191 characters: the longest key InnoDB can index in utf8mb4.
    Column("id", Unicode(191), primary_key=True),
    # A UTC timestamp; NULL for a paused job.
    Column("next_run_time", Float(25).with_variant(mysql.DOUBLE(), "mysql"), index=True),
    # A pickled apscheduler.job.Job state.
    Column("job_state", LargeBinary, nullable=False),
)
