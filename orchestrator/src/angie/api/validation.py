"""What the routes share to check a request: id and name types, a 422 about one field, nulls in
a PATCH, and a name that must be free (409) before and while it is written."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from angie.errors import Conflict, Invalid

__all__ = (
    "MAX_ID",
    "Description",
    "FleetName",
    "IsoTime",
    "NameQuery",
    "PathId",
    "PromptText",
    "RowId",
    "ToolFilter",
    "UniqueName",
    "invalid",
    "invalid_at",
    "matching",
    "reject_nulls",
)

# Ids are 32-bit signed columns: a larger one is a 422 here, not a database error.
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_only(value: Any) -> Any:
    # pydantic reads a number as Unix time; the schema (and people) mean ISO 8601 here.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("use an ISO 8601 time such as 2026-11-21T09:00:00Z, not a number")
    return value


#: A date-time given as ISO 8601 text only.
IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]


def matching(pattern: str, message: str) -> AfterValidator:
    """A check against ``pattern`` whose error says what is expected in words."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


# Angie asks an agent through a tool named ask_<name> (a team: ask_team_<name>).
FleetName = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    matching(
        r"[a-z][a-z0-9_]{1,63}",
        "must be 2 to 64 lower-case letters, digits or _, starting with a letter",
    ),
]
# A glob over prefixed tool names ("hue_*"), "!" in front to exclude.
ToolGlob = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    matching(
        r"!?[A-Za-z0-9_.*?\[\]!-]{1,128}",
        "must be a glob over tool names such as hue_* or !hue_pair",
    ),
]
ToolFilter = Annotated[list[ToolGlob], Field(max_length=50)]
Description = Annotated[str, Field(max_length=2000)]
NameQuery = Annotated[str | None, Query(max_length=64, description="Part of the name.")]
PromptText = Annotated[str, Field(max_length=100_000)]


def invalid_at(location: str, message: str) -> Invalid:
    """A 422 saying ``message``, its detail at ``location`` ("body: cron", "query: since")."""
    return Invalid(message, details=[{"field": location, "message": message}])


def invalid(field: str, message: str) -> Invalid:
    """A 422 about one body field, shaped like FastAPI's own validation errors."""
    return Invalid(
        f"body: {field}: {message}",
        details=[{"field": f"body: {field}", "message": message}],
    )


def reject_nulls(changes: Mapping[str, Any], *, nullable: Iterable[str] = ()) -> None:
    """A PATCH leaves a field out to keep it; a null is refused unless the field may be empty."""
    allowed = set(nullable)
    for key, value in changes.items():
        if value is None and key not in allowed:
            raise invalid(key, "cannot be null")


class UniqueName:
    """A name no other row (of the same owner, when names are per owner) may have: checked
    before a write, and again as it is written, for two requests that raced for one name."""

    def __init__(
        self,
        id_column: InstrumentedAttribute[int],
        name_column: InstrumentedAttribute[str],
        taken: str,
        owner_column: InstrumentedAttribute[int | None] | None = None,
    ) -> None:
        self.id_column = id_column
        self.name_column = name_column
        # The 409's message, formatted with the name: "an agent named {name!r} already exists".
        self.taken = taken
        self.owner_column = owner_column

    async def check(
        self, session: AsyncSession, name: str, *, owner: int | None = None, keep: int | None = None
    ) -> None:
        """A 409 if another row (not ``keep``, the one being renamed) has the name."""
        stmt = select(self.id_column).where(self.name_column == name)
        if self.owner_column is not None:
            stmt = stmt.where(
                self.owner_column.is_(None) if owner is None else self.owner_column == owner
            )
        if keep is not None:
            stmt = stmt.where(self.id_column != keep)
        if await session.scalar(stmt.limit(1)) is not None:
            raise Conflict(self.taken.format(name=name))

    async def flush(self, session: AsyncSession, name: str) -> None:
        """Write what is pending; the database's unique key catches a race the check missed."""
        try:
            await session.flush()
        except IntegrityError as err:
            raise Conflict(self.taken.format(name=name)) from err


def in_the_loop[T](cls: type[T]) -> Callable[..., Awaitable[T]]:
    """``Depends(cls)`` with the class made on the event loop.

    FastAPI runs every plain callable dependency (a class included) in its thread pool, a hop
    to another thread and back on each request for what is a few attribute assignments. This
    async twin takes the same query parameters (its signature is the class's) and builds it
    in place.
    """
    signature = inspect.signature(cls, eval_str=True)

    async def build(**values: Any) -> T:
        return cls(**values)

    build.__signature__ = signature.replace(return_annotation=cls)  # type: ignore[attr-defined]
    build.__name__ = build.__qualname__ = f"make_{cls.__name__}"
    build.__doc__ = cls.__doc__
    return build
