"""The one async engine and session factory of a process, tuned per database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

__all__ = ("Database", "create_engine")

_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _in_transaction(dbapi_connection: Any) -> bool:
    driver = getattr(dbapi_connection, "driver_connection", None)
    try:
        return driver is None or bool(driver.in_transaction)
    except ValueError:  # aiosqlite's connection is closed: let the dialect decide
        return True


def _skip_idle_ends(engine: AsyncEngine) -> None:
    """Commit and roll back only a connection that is in a transaction.

    The sqlite3 module begins a transaction before a write only, so a request that only read
    ends with nothing open; its commit and the pool's rollback are then no-ops in sqlite3,
    yet each is a hop to aiosqlite's thread and back.
    """
    dialect = engine.sync_engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            commit(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            rollback(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def create_engine(url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite`` (the embedded default) or ``mysql+asyncmy``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, echo=echo)
        # SQLite leaves foreign keys off unless asked, per connection.
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _skip_idle_ends(engine)
        return engine
    if parsed.get_backend_name() in {"mysql", "mariadb"}:
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        # pre_ping and recycle: a 24/7 daemon outlives MySQL's wait_timeout on idle connections.
        return create_async_engine(parsed, echo=echo, pool_pre_ping=True, pool_recycle=1800)
    raise ValueError(f"unsupported database backend {parsed.get_backend_name()!r}")


class Database:
    """An engine and its session factory; create one per process at the edge."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.engine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
