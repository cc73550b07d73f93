"""Storage on obstore: the local disk (LocalStore) and S3-compatible object storage (S3Store),
one Rust implementation behind both, so both behave the same."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import LocalStore, MemoryStore, S3Store

from angie.storage.base import DEFAULT_CHUNK, MAX_OBJECT_BYTES, StoredFile
from angie.storage.errors import StorageNotFound, StorageUnavailable, TooLarge
from angie.storage.keys import check_key, check_prefix

__all__ = ("ObjectStorage",)

log = logging.getLogger(__name__)

Store = LocalStore | S3Store | MemoryStore
# obstore raises its own errors, and Python's for some (a missing object is FileNotFoundError).
_FAILURES = (BaseError, OSError)


class ObjectStorage:
    """:class:`~angie.storage.base.Storage` over an obstore store."""

    def __init__(
        self, store: Store, *, description: str, max_object_bytes: int = MAX_OBJECT_BYTES
    ) -> None:
        self._store = store
        self._description = description
        self._max = max_object_bytes

    @property
    def description(self) -> str:
        return self._description

    @property
    def store(self) -> Store:
        """The obstore store itself (the benchmark compares against it)."""
        return self._store

    def _failed(self, key: str, err: Exception) -> Exception:
        if isinstance(err, NotFoundError | FileNotFoundError):
            return StorageNotFound(f"there is no file {key!r}")
        # obstore's messages can quote request URLs and headers: logged at debug level only,
        # the person hears which storage failed and the kind of error.
        log.debug("storage %s failed on %r: %s", self._description, key, err)
        return StorageUnavailable(
            f"the storage at {self._description} failed on {key!r} ({type(err).__name__})"
        )

    async def save(self, key: str, data: bytes) -> StoredFile:
        check_key(key)
        if len(data) > self._max:
            raise TooLarge(f"{key!r} is {len(data)} bytes; one file may be at most {self._max}")
        try:
            await obstore.put_async(self._store, key, data)
        except _FAILURES as err:
            raise self._failed(key, err) from err
        return StoredFile(key, len(data), datetime.now(UTC))

    async def load(self, key: str) -> bytes:
        check_key(key)
        try:
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())
        except _FAILURES as err:
            raise self._failed(key, err) from err

    async def open_stream(
        self, key: str, *, chunk_size: int = DEFAULT_CHUNK
    ) -> AsyncIterator[bytes]:
        check_key(key)
        try:
            result = await obstore.get_async(self._store, key)
            async for chunk in result.stream(min_chunk_size=chunk_size):
                yield bytes(chunk)
        except _FAILURES as err:
            raise self._failed(key, err) from err

    async def delete(self, key: str) -> None:
        # Deleting a missing object succeeds on S3: checked first so both backends say so.
        await self.stat(key)
        try:
            await obstore.delete_async(self._store, key)
        except _FAILURES as err:
            raise self._failed(key, err) from err

    async def stat(self, key: str) -> StoredFile:
        check_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except _FAILURES as err:
            raise self._failed(key, err) from err
        return _stored(meta)

    async def list(self, prefix: str = "") -> list[StoredFile]:
        check_prefix(prefix)
        found: list[StoredFile] = []
        try:
            # obstore lists by whole path segments; a partial last segment is filtered here.
            folder = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0]
            async for batch in obstore.list(self._store, folder or None, chunk_size=500):
                found.extend(_stored(m) for m in batch if m["path"].startswith(prefix))
        except _FAILURES as err:
            raise self._failed(prefix or "/", err) from err
        return sorted(found, key=lambda f: f.key)

    async def aclose(self) -> None:
        return None


def _stored(meta: Any) -> StoredFile:
    modified: datetime = meta["last_modified"]
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return StoredFile(str(meta["path"]), int(meta["size"]), modified)
