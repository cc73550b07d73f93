"""APScheduler's job store in Angie's own database, reached through a synchronous driver.

``SQLAlchemyJobStore`` is synchronous, so it gets its own small engine on the same database:
``sqlite+aiosqlite`` becomes ``sqlite`` (pysqlite) and ``mysql+asyncmy`` ``mysql+pymysql``.
"""

from __future__ import annotations

from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url

from angie.db.models.scheduler_jobs import SCHEDULER_JOBS

__all__ = ("create_job_store", "sync_engine", "sync_url")

_SYNC_DRIVERS = {"sqlite": "sqlite", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}


def sync_url(url: str | URL) -> URL:
    """The same database as ``url`` behind a synchronous driver; query and charset are kept."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _SYNC_DRIVERS:
        raise ValueError(f"unsupported database backend {backend!r} for the scheduler")
    if backend == "sqlite" and parsed.database in {None, "", ":memory:"}:
        # Each connection to an in-memory SQLite is a different database.
        raise ValueError("the scheduler needs a database file or server, not in-memory SQLite")
    if backend != "sqlite" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})  # as angie.db.engine does
    return parsed.set(drivername=_SYNC_DRIVERS[backend])


def sync_engine(url: str | URL) -> Engine:
    """A small synchronous engine: the job store makes a few short queries per tick."""
    parsed = sync_url(url)
    options: dict[str, Any] = {"pool_size": 2, "max_overflow": 2}
    if parsed.get_backend_name() != "sqlite":
        # A 24/7 daemon outlives MySQL's wait_timeout on idle connections.
        options |= {"pool_pre_ping": True, "pool_recycle": 1800}
    return create_engine(parsed, **options)


def create_job_store(url: str | URL) -> Any:
    """A ``SQLAlchemyJobStore`` on the ``scheduler_jobs`` table that migration 0002 created."""
    return SQLAlchemyJobStore(engine=sync_engine(url), tablename=SCHEDULER_JOBS)
