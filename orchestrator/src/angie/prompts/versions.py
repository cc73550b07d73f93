"""Versioned rows of the ``prompts`` table: read the current version, the history, append one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select

from angie.db.models import Prompt, PromptKind
from angie.prompts.errors import PromptError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.prompts.library import PromptLibrary

__all__ = (
    "MAX_BODY_BYTES",
    "PromptVersion",
    "append",
    "check_name",
    "current_all",
    "history",
    "latest",
    "latest_of",
    "prepare_body",
)

#: The largest prompt document Angie accepts (encoded as UTF-8).
MAX_BODY_BYTES = 64 * 1024
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One saved version of one prompt document; an empty body means the document is cleared."""

    name: str
    body: str
    version: int
    created_at: datetime
    created_by_id: int | None

    @classmethod
    def of(cls, row: Prompt) -> PromptVersion:
        return cls(row.name, row.body, row.version, row.created_at, row.created_by_id)


def check_name(name: str) -> str:
    if not _SLUG.match(name):
        raise PromptError(
            f"{name!r} is not a valid prompt name: use lower-case letters, digits, - and _ "
            "(up to 64, starting with a letter or digit)"
        )
    return name


def prepare_body(library: PromptLibrary, body: str, *, name: str) -> str:
    """The body as stored: checked as a template, size-limited, with tidy line endings.

    Surrounding blank space is dropped and one final newline kept, so a file that went through
    an editor (which adds or removes that newline) imports as the same version.
    """
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    size = len(text.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise PromptError(f"{name} is {size} bytes; prompts are limited to {MAX_BODY_BYTES}")
    if not text:
        return ""
    library.check(text, name=name)
    return text + "\n"


def _rows(kind: PromptKind, user_id: int | None) -> tuple[ColumnElement[bool], ...]:
    # owner_key rather than user_id: it is what the unique index over versions covers.
    return (Prompt.kind == kind, Prompt.owner_key == (user_id or 0))


async def latest(
    session: AsyncSession, kind: PromptKind, user_id: int | None, name: str
) -> Prompt | None:
    stmt = (
        select(Prompt)
        .where(*_rows(kind, user_id), Prompt.name == name)
        .order_by(Prompt.version.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def current_all(session: AsyncSession, kind: PromptKind, user_id: int | None) -> list[Prompt]:
    """The latest version of every name of one kind and owner, by name."""
    return await latest_of(session, [(kind, user_id, None)])


async def latest_of(
    session: AsyncSession, documents: Sequence[tuple[PromptKind, int | None, str | None]]
) -> list[Prompt]:
    """The latest version of each of ``documents`` (kind, owner, name; a name of None: every
    name of that kind and owner), in one statement, by name."""
    wanted = or_(
        *(
            and_(*_rows(kind, user_id), *([] if name is None else [Prompt.name == name]))
            for kind, user_id, name in documents
        )
    )
    newest = (
        select(
            Prompt.kind,
            Prompt.owner_key,
            Prompt.name,
            func.max(Prompt.version).label("version"),
        )
        .where(wanted)
        .group_by(Prompt.kind, Prompt.owner_key, Prompt.name)
        .subquery()
    )
    stmt = select(Prompt).join(
        newest,
        (Prompt.kind == newest.c.kind)
        & (Prompt.owner_key == newest.c.owner_key)
        & (Prompt.name == newest.c.name)
        & (Prompt.version == newest.c.version),
    )
    return sorted((await session.scalars(stmt)).all(), key=lambda row: row.name)


async def history(
    session: AsyncSession, kind: PromptKind, user_id: int | None, name: str
) -> list[PromptVersion]:
    """Every version of one document, oldest first."""
    stmt = select(Prompt).where(*_rows(kind, user_id), Prompt.name == name).order_by(Prompt.version)
    return [PromptVersion.of(row) for row in (await session.scalars(stmt)).all()]


async def append(
    session: AsyncSession,
    kind: PromptKind,
    user_id: int | None,
    name: str,
    body: str,
    *,
    by: int | None,
) -> int:
    """Add ``body`` as the next version; the current version if nothing changed (0: none yet).

    A document that was never saved counts as empty, so clearing it is a no-op too.
    """
    current = await latest(session, kind, user_id, name)
    if (current.body if current else "") == body:
        return current.version if current else 0
    version = current.version + 1 if current else 1
    session.add(
        Prompt(kind=kind, name=name, user_id=user_id, version=version, body=body, created_by_id=by)
    )
    await session.flush()
    return version
