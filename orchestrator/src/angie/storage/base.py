"""The one storage interface Angie uses for attachments, exports, scratch files and reports,
whatever the backend (local disk, a NAS over SFTP, S3-compatible object storage)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ("DEFAULT_CHUNK", "MAX_OBJECT_BYTES", "Storage", "StoredFile")

# Streams are read in chunks of this size (a backend may use its own).
DEFAULT_CHUNK = 256 * 1024
# The most one save may write unless the storage is built with another limit.
MAX_OBJECT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file's key, size in bytes and when it was last written (UTC)."""

    key: str
    size: int
    modified: datetime


class Storage(Protocol):
    """Async file storage addressed by keys (see :mod:`angie.storage.keys`).

    Every method checks its key first (InvalidKey); a missing file is StorageNotFound; a
    backend that cannot be reached is StorageUnavailable, whose message never holds a secret.
    """

    @property
    def description(self) -> str:
        """Where the files are, for logs and the status page (no credentials)."""
        ...

    async def save(self, key: str, data: bytes) -> StoredFile:
        """Write ``data`` under ``key``, replacing what was there."""
        ...

    async def load(self, key: str) -> bytes:
        """The whole content of ``key``."""
        ...

    def open_stream(self, key: str, *, chunk_size: int = DEFAULT_CHUNK) -> AsyncIterator[bytes]:
        """The content of ``key`` in chunks, for files too big to hold at once."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; StorageNotFound if there is no such file."""
        ...

    async def stat(self, key: str) -> StoredFile:
        """Size and time of ``key``."""
        ...

    async def list(self, prefix: str = "") -> list[StoredFile]:
        """Files whose key starts with ``prefix`` (a folder ends with ``/``), sorted by key."""
        ...

    async def aclose(self) -> None:
        """Let go of connections (a no-op for backends that hold none)."""
        ...
