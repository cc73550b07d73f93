"""Each person's USER_PROMPTS: versioned documents about them, edited, exported and imported.

Reset restores the setup interview's documents (``profile``, ``style``, …) to their defaults
as new versions, and keeps every other document: those were written or imported on purpose,
and the history keeps the old texts either way. A document is cleared by saving it empty;
``current`` leaves cleared documents out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from angie.db.models import Prompt, PromptKind
from angie.prompts import versions
from angie.prompts.errors import PromptError
from angie.prompts.household import HOUSEHOLD_DOCUMENTS, overrides_in
from angie.prompts.library import ONBOARDING_DOCS
from angie.prompts.versions import MAX_BODY_BYTES, PromptVersion, check_name, prepare_body

if TYPE_CHECKING:
    from angie.db.engine import Database
    from angie.prompts.library import PromptLibrary

__all__ = ("ConversationPrompts", "UserPromptStore", "doc_order")

_USER = PromptKind.USER


@dataclass(frozen=True, slots=True)
class ConversationPrompts:
    """What a conversation turn composes besides the shipped files: the household's overrides
    in effect and the person's documents in effect, in composition order."""

    household: dict[PromptKind, PromptVersion]
    documents: list[PromptVersion]


def doc_order(name: str) -> tuple[int, str]:
    """The order documents are composed in: the setup topics first, then the others by name."""
    if name in ONBOARDING_DOCS:
        return ONBOARDING_DOCS.index(name), ""
    return len(ONBOARDING_DOCS), name


class UserPromptStore:
    """USER prompt documents over the ``prompts`` table; each user sees only their own."""

    def __init__(self, database: Database, library: PromptLibrary) -> None:
        self._db = database
        self._library = library

    async def current(self, user_id: int) -> list[PromptVersion]:
        """The user's documents in effect (cleared ones left out), in composition order."""
        async with self._db.session() as session:
            rows = await versions.current_all(session, _USER, user_id)
        docs = [PromptVersion.of(row) for row in rows if row.body]
        return sorted(docs, key=lambda doc: doc_order(doc.name))

    async def for_conversation(self, user_id: int | None) -> ConversationPrompts:
        """The household's overrides and the person's documents (none without a person), read
        in one statement on every turn: an edit from any process is in the next turn."""
        wanted = [*HOUSEHOLD_DOCUMENTS, *([(_USER, user_id, None)] if user_id else [])]
        async with self._db.session() as session:
            rows = await versions.latest_of(session, wanted)
        docs = [PromptVersion.of(row) for row in rows if row.kind is _USER and row.body]
        return ConversationPrompts(
            overrides_in(rows), sorted(docs, key=lambda doc: doc_order(doc.name))
        )

    async def get(self, user_id: int, name: str) -> PromptVersion | None:
        """The latest version of one document (its body is empty if it was cleared)."""
        async with self._db.session() as session:
            row = await versions.latest(session, _USER, user_id, check_name(name))
        return PromptVersion.of(row) if row else None

    async def history(self, user_id: int, name: str) -> list[PromptVersion]:
        """Every version of one document, oldest first."""
        async with self._db.session() as session:
            return await versions.history(session, _USER, user_id, check_name(name))

    async def save(self, user_id: int, name: str, body: str, *, by: int | None) -> int:
        """Save a new version and return its number; an unchanged body saves nothing.

        Returns the current version when nothing changed (0 for a document never saved).
        """
        check_name(name)
        text = prepare_body(self._library, body, name=f"user prompt `{name}`")
        async with self._db.session() as session:
            return await versions.append(session, _USER, user_id, name, text, by=by)

    async def export(self, user_id: int, folder: Path) -> list[Path]:
        """Write each current document to ``<folder>/<name>.md``; returns the files written."""
        docs = await self.current(user_id)
        return await asyncio.to_thread(_write_all, folder, docs)

    async def import_(
        self, user_id: int, source: Path | Iterable[Path], *, by: int | None
    ) -> dict[str, int]:
        """Save each ``.md`` file (or each one in a folder) as a new version of ``<stem>``.

        All or nothing: every file is read and checked before anything is written, and one bad
        file (a bad name, not UTF-8, over 64 KiB, not a valid template) writes none of them.
        Returns each document's current version.
        """
        bodies = await asyncio.to_thread(_read_all, source, self._library)
        async with self._db.session() as session:
            return {
                name: await versions.append(session, _USER, user_id, name, body, by=by)
                for name, body in bodies.items()
            }

    async def reset(self, user_id: int, *, by: int | None) -> dict[str, int]:
        """Restore every setup document to its default; other documents are kept as they are."""
        defaults = self._defaults()
        async with self._db.session() as session:
            return {
                name: await versions.append(session, _USER, user_id, name, body, by=by)
                for name, body in defaults.items()
            }

    async def ensure_defaults(self, user_id: int) -> list[str]:
        """On first use, give the user the default setup documents; returns the names written.

        A user who has any document (even a cleared one) already went through this, so
        nothing is written for them.
        """
        defaults = self._defaults()
        async with self._db.session() as session:
            has_any = await session.scalar(
                select(Prompt.id).where(Prompt.kind == _USER, Prompt.owner_key == user_id).limit(1)
            )
            if has_any is not None:
                return []
            for name, body in defaults.items():
                await versions.append(session, _USER, user_id, name, body, by=None)
        return list(defaults)

    def _defaults(self) -> dict[str, str]:
        return {
            name: prepare_body(self._library, source, name=f"prompts/onboarding/{name}.md")
            for name, source in self._library.onboarding_defaults().items()
        }


def _write_all(folder: Path, docs: Sequence[PromptVersion]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in docs:
        path = folder / f"{doc.name}.md"
        path.write_text(doc.body, encoding="utf-8")
        paths.append(path)
    return paths


def _files(source: Path | Iterable[Path]) -> list[Path]:
    if isinstance(source, Path):
        if source.is_dir():
            found = sorted(p for p in source.iterdir() if p.suffix == ".md" and p.is_file())
            if not found:
                raise PromptError(f"{source} holds no .md files to import")
            return found
        return [source]
    return list(source)


def _read_all(source: Path | Iterable[Path], library: PromptLibrary) -> dict[str, str]:
    """Each file's document name and prepared body, or a PromptError for the first bad one."""
    bodies: dict[str, str] = {}
    for path in _files(source):
        if path.suffix != ".md":
            raise PromptError(f"{path} is not a .md file")
        try:
            name = check_name(path.stem)
        except PromptError as err:
            raise PromptError(f"{path}: {err}") from err
        if name in bodies:
            raise PromptError(f"{path}: another file in this import is also named {name!r}")
        try:
            if path.stat().st_size > MAX_BODY_BYTES:
                raise PromptError(f"{path} is larger than {MAX_BODY_BYTES} bytes")
            raw = path.read_bytes()
        except OSError as err:
            raise PromptError(f"{path} cannot be read: {err.strerror}") from err
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise PromptError(f"{path} is not UTF-8 text") from err
        bodies[name] = prepare_body(library, text, name=str(path))
    return bodies
