"""Migrations: head from empty and back to base on SQLite and MariaDB; no drift from the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import angie.db.models  # noqa: F401 - registers the tables
from angie.db import migrate
from angie.db.base import Base
from angie.db.engine import create_engine


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_creates_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
    finally:
        await engine.dispose()
    assert await _tables(database_url) == set(Base.metadata.tables) | {"alembic_version"}


async def test_downgrade_to_base_removes_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.downgrade(engine, "base")
        assert await migrate.current(engine) is None
    finally:
        await engine.dispose()
    assert await _tables(database_url) == {"alembic_version"}


async def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)
        assert await migrate.current(engine) == migrate.head()
    finally:
        await engine.dispose()


async def test_models_match_the_migrations(database_url: str) -> None:
    engine = create_engine(database_url)

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
