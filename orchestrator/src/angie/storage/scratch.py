"""Scratch files: a conversation's working files (notes, drafts) that agents write, read, list
and delete across the steps of their work, bounded in size per conversation and swept after a
retention period. Each conversation's files are under ``scratch/<conversation id>/``; callers
give the id, never a path, so one conversation cannot reach another's files."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from angie.storage.base import Storage, StoredFile
from angie.storage.errors import QuotaExceeded, StorageNotFound
from angie.storage.keys import check_key

__all__ = ("SCRATCH_ROOT", "ScratchFiles")

log = logging.getLogger(__name__)

SCRATCH_ROOT = "scratch"


class ScratchFiles:
    """Per-conversation files on a :class:`Storage`, at most ``max_bytes`` each conversation."""

    def __init__(self, storage: Storage, *, max_bytes: int, retention: timedelta) -> None:
        self.storage = storage
        self.max_bytes = max_bytes
        self.retention = retention
        # Saves of one conversation in this process take turns, so two cannot both pass the
        # quota check with the room for one.
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    @staticmethod
    def folder(conversation_id: int) -> str:
        if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
            raise TypeError("a conversation id is an int")
        if conversation_id < 1:
            raise ValueError(f"no conversation {conversation_id}")
        return f"{SCRATCH_ROOT}/{conversation_id}/"

    def _key(self, conversation_id: int, name: str) -> str:
        return self.folder(conversation_id) + check_key(name)

    def _named(self, conversation_id: int, found: StoredFile) -> StoredFile:
        name = found.key.removeprefix(self.folder(conversation_id))
        return StoredFile(name, found.size, found.modified)

    async def write(self, conversation_id: int, name: str, data: bytes) -> StoredFile:
        """Save ``name`` (replacing it); QuotaExceeded if the conversation would go over."""
        key = self._key(conversation_id, name)
        async with self._locks[conversation_id]:
            files = await self.storage.list(self.folder(conversation_id))
            used = sum(f.size for f in files if f.key != key)
            if used + len(data) > self.max_bytes:
                raise QuotaExceeded(
                    f"saving {name!r} ({len(data)} bytes) would take this conversation's scratch "
                    f"files to {used + len(data)} bytes, over its {self.max_bytes}; delete some "
                    "first"
                )
            saved = await self.storage.save(key, data)
        return self._named(conversation_id, saved)

    async def read(self, conversation_id: int, name: str) -> bytes:
        try:
            return await self.storage.load(self._key(conversation_id, name))
        except StorageNotFound as err:
            raise StorageNotFound(f"there is no scratch file {name!r}") from err

    async def delete(self, conversation_id: int, name: str) -> None:
        try:
            await self.storage.delete(self._key(conversation_id, name))
        except StorageNotFound as err:
            raise StorageNotFound(f"there is no scratch file {name!r}") from err

    async def list(self, conversation_id: int) -> list[StoredFile]:
        """The conversation's files, named relative to its folder."""
        files = await self.storage.list(self.folder(conversation_id))
        return [self._named(conversation_id, f) for f in files]

    async def used(self, conversation_id: int) -> int:
        return sum(f.size for f in await self.list(conversation_id))

    async def sweep(self, now: datetime | None = None) -> int:
        """Delete every scratch file last written before the retention period; how many."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        removed = 0
        for found in await self.storage.list(f"{SCRATCH_ROOT}/"):
            if found.modified >= cutoff:
                continue
            try:
                await self.storage.delete(found.key)
            except StorageNotFound:
                continue  # another daemon's sweep got there first
            removed += 1
        if removed:
            log.info("swept %d scratch files older than %s", removed, self.retention)
        return removed
