"""What the routes share: strict request bodies, the page envelope and list parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from angie.api.validation import in_the_loop
from angie.errors import Invalid

__all__ = (
    "Body",
    "Email",
    "ListParams",
    "Out",
    "Page",
    "PageParams",
    "order_by",
    "paginate",
)

MAX_LIMIT = 200

# Deliberately lenient: a household may use addresses like sam@home.lan or lee@localhost.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
]


class Body(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """A response model read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class Page[T](BaseModel):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
        sort: Annotated[
            str | None,
            Query(
                max_length=64,
                pattern=r"^-?[a-z_]+$",
                description="A field to sort by; a leading '-' sorts descending.",
            ),
        ] = None,
    ) -> None:
        self.limit = limit
        self.offset = offset
        self.sort = sort


ListParams = Annotated[PageParams, Depends(in_the_loop(PageParams))]


def order_by[S: Select[Any]](
    stmt: S,
    sort: str | None,
    allowed: dict[str, InstrumentedAttribute[Any]],
    default: str,
    tiebreak: InstrumentedAttribute[Any] | None = None,
) -> S:
    """Sort by one of ``allowed`` (``-name`` descending); anything else is a 422 naming them."""
    wanted = sort or default
    field = wanted.removeprefix("-")
    column = allowed.get(field)
    if column is None:
        raise Invalid(
            f"cannot sort by {field!r}; use one of {', '.join(sorted(allowed))}",
            details=[{"field": "query: sort", "message": f"unknown sort field {field!r}"}],
        )
    ordered = column.desc() if wanted.startswith("-") else column.asc()
    stmt = stmt.order_by(ordered)
    if tiebreak is not None:
        stmt = stmt.order_by(tiebreak.desc() if wanted.startswith("-") else tiebreak.asc())
    return stmt


async def paginate(
    session: AsyncSession, stmt: Select[Any], params: PageParams
) -> tuple[list[Any], int]:
    """The page of ``stmt`` (already ordered) and the total count of its rows."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.scalars(stmt.limit(params.limit).offset(params.offset))).all()
    return list(rows), int(total or 0)
