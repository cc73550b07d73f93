"""Run Alembic migrations from Angie's own code: ``angie db …`` and ``angie serve`` on start."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from angie.errors import Unavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = (
    "MigrationError",
    "alembic_config",
    "current",
    "downgrade",
    "head",
    "migrations_dir",
    "upgrade",
)


class MigrationError(Unavailable):
    """The database cannot be migrated; the message says why in one line."""


def migrations_dir() -> Path:
    """``orchestrator/migrations`` in a checkout, or the copy inside the PyInstaller binary."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "angie_migrations"] if bundle else []
    candidates.append(Path(__file__).resolve().parents[3] / "migrations")
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationError(
        f"Angie's migrations are missing (looked in {', '.join(map(str, candidates))})"
    )


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return heads[0] if heads else "base"


def _with_connection(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    try:
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
    except CommandError as err:
        raise MigrationError(f"cannot {action} to {revision!r}: {err}") from err


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_with_connection, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_with_connection, "downgrade", revision)


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
