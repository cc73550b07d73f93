"""The household's own SYSTEM and ANGIE prompts: an admin's edits, which win over the shipped files.

The latest version of ``system`` or ``angie`` (kind SYSTEM/ANGIE, no user) overrides the file of
that name. Resetting saves an empty version, which means "use the shipped file" again: the
household follows future updates of the file, and the edited texts stay in the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from angie.db.models import Prompt, PromptKind
from angie.prompts import versions
from angie.prompts.versions import PromptVersion, prepare_body

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.db.engine import Database
    from angie.prompts.library import PromptLibrary

__all__ = ("HOUSEHOLD_DOCUMENTS", "HOUSEHOLD_KINDS", "HouseholdPromptStore", "overrides_in")

#: The kinds of prompt a household admin may override.
HOUSEHOLD_KINDS = (PromptKind.SYSTEM, PromptKind.ANGIE)
#: The documents holding those overrides, as :func:`versions.latest_of` names them.
HOUSEHOLD_DOCUMENTS = tuple((kind, None, kind.value) for kind in HOUSEHOLD_KINDS)


def overrides_in(rows: Iterable[Prompt]) -> dict[PromptKind, PromptVersion]:
    """The overrides in effect among the latest versions of the household's documents (an
    empty one means the shipped file); rows of other kinds are passed over."""
    return {
        row.kind: PromptVersion.of(row)
        for row in rows
        if row.kind in HOUSEHOLD_KINDS
        and row.owner_key == 0
        and row.name == row.kind.value
        and row.body
    }


def _kind(kind: PromptKind) -> PromptKind:
    if kind not in HOUSEHOLD_KINDS:
        raise ValueError(f"the household overrides only SYSTEM and ANGIE prompts, not {kind.name}")
    return kind


class HouseholdPromptStore:
    """SYSTEM and ANGIE overrides over the ``prompts`` table (``name`` is the kind's value)."""

    def __init__(self, database: Database, library: PromptLibrary) -> None:
        self._db = database
        self._library = library

    async def current(self, kind: PromptKind) -> PromptVersion | None:
        """The override in effect, or None when the shipped file is used."""
        async with self._db.session() as session:
            row = await versions.latest(session, _kind(kind), None, kind.value)
        return PromptVersion.of(row) if row and row.body else None

    async def overrides(self) -> dict[PromptKind, PromptVersion]:
        """Every override in effect, in one statement: what composition needs on each turn."""
        async with self._db.session() as session:
            return await self.read_overrides(session)

    @staticmethod
    async def read_overrides(session: AsyncSession) -> dict[PromptKind, PromptVersion]:
        """:meth:`overrides`, read in a session the caller holds for its other reads."""
        return overrides_in(await versions.latest_of(session, HOUSEHOLD_DOCUMENTS))

    async def history(self, kind: PromptKind) -> list[PromptVersion]:
        """Every version, oldest first; empty bodies are the resets to the shipped file."""
        async with self._db.session() as session:
            return await versions.history(session, _kind(kind), None, kind.value)

    async def save(self, kind: PromptKind, body: str, *, by: int | None) -> int:
        """Save a new override and return its version (the current one if nothing changed)."""
        text = prepare_body(self._library, body, name=f"the household {_kind(kind).name} prompt")
        async with self._db.session() as session:
            return await versions.append(session, kind, None, kind.value, text, by=by)

    async def reset(self, kind: PromptKind, *, by: int | None) -> int:
        """Go back to the shipped file; returns the version recording that (0: never overridden)."""
        async with self._db.session() as session:
            return await versions.append(session, _kind(kind), None, kind.value, "", by=by)
