"""The ``Page`` a list route answers with: from a query, from rows already counted, or from a
short list kept in memory, sorted as database lists are."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.schemas import Page, PageParams, paginate
from angie.errors import Invalid

__all__ = ("memory_page", "page_of", "query_page", "unknown_sort")


def page_of[T](items: list[T], total: int, params: PageParams) -> Page[T]:
    """The page envelope around ``items``, one page of ``total``."""
    return Page(items=items, total=total, limit=params.limit, offset=params.offset)


async def query_page[T](
    session: AsyncSession, stmt: Select[Any], params: PageParams, out: Callable[[Any], T]
) -> Page[T]:
    """The page of ``stmt`` (already ordered), each row made into what the route answers."""
    rows, total = await paginate(session, stmt, params)
    return page_of([out(row) for row in rows], total, params)


def unknown_sort(field: str, allowed: Iterable[str]) -> Invalid:
    """The 422 for a ``sort`` the list does not offer, naming the ones it does."""
    return Invalid(
        f"cannot sort by {field!r}; use one of {', '.join(sorted(allowed))}",
        details=[{"field": "query: sort", "message": f"unknown sort field {field!r}"}],
    )


def memory_page[T](
    items: list[T], params: PageParams, sortable: dict[str, Callable[[T], Any]]
) -> Page[T]:
    """A page of a short list kept in memory; ``sort`` as for database lists."""
    if params.sort is not None:
        field = params.sort.removeprefix("-")
        key = sortable.get(field)
        if key is None:
            raise unknown_sort(field, sortable)
        items = sorted(items, key=key, reverse=params.sort.startswith("-"))
    return page_of(items[params.offset : params.offset + params.limit], len(items), params)
