"""The declarative base every Angie model derives from, and the column types they share."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, Integer, MetaData, Text, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = (
    "JSON_TYPE",
    "LONG_TEXT",
    "Base",
    "OwnedMixin",
    "TimestampMixin",
    "UTCDateTime",
    "str_enum",
    "utcnow",
)

# Stable constraint names, so Alembic migrations behave the same on SQLite and MySQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC with microseconds in the database.

    MySQL's DATETIME has no zone and no fraction by default; SQLite has no type at all. Storing
    naive UTC everywhere keeps ordering and comparisons right on both.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Angie stores only timezone-aware datetimes (got a naive one)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


JSON_TYPE = JSON().with_variant(mysql.JSON(), "mysql")
# MySQL's TEXT stops at 64 KiB; prompts, messages and summaries can be longer.
LONG_TEXT = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")


def str_enum[E: StrEnum](enum: type[E], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint the database enforces."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON_TYPE,
        list[Any]: JSON_TYPE,
        list[str]: JSON_TYPE,
    }


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OwnedMixin:
    """Rows that belong to one user or, with ``user_id`` NULL, to the whole household.

    ``owner_key`` mirrors ``user_id`` with 0 for shared rows, so unique constraints can cover
    shared rows too (NULLs never collide in a unique index on SQLite or MySQL). The ORM keeps
    the two in step; a CHECK cannot, because MySQL 8 forbids CHECK constraints on columns that
    a foreign key's ON DELETE action changes.
    """

    owner_key: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(OwnedMixin, "before_insert", propagate=True)
@event.listens_for(OwnedMixin, "before_update", propagate=True)
def _sync_owner_key(_mapper: Any, _connection: Any, target: Any) -> None:
    target.owner_key = target.user_id or 0
