"""Storage on a NAS or any host reachable over SFTP (asyncssh): one connection, opened on first
use and again after it drops; the host's key is checked against a known_hosts file."""

from __future__ import annotations

import asyncio
import logging
import posixpath
import stat as stat_mode
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncssh
from pydantic import SecretStr

from angie.storage.base import DEFAULT_CHUNK, MAX_OBJECT_BYTES, StoredFile
from angie.storage.errors import StorageNotFound, StorageUnavailable, TooLarge
from angie.storage.keys import check_key, check_prefix

__all__ = ("SftpStorage", "SftpTarget")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SftpTarget:
    """Where and as whom: the root is the folder on the host that keys are under."""

    host: str
    port: int
    username: str
    root: str
    password: SecretStr | None = None
    client_key: Path | None = None
    # None: the user's ~/.ssh/known_hosts.
    known_hosts: Path | None = None
    connect_timeout: float = 10.0


class SftpStorage:
    """:class:`~angie.storage.base.Storage` over SFTP."""

    def __init__(self, target: SftpTarget, *, max_object_bytes: int = MAX_OBJECT_BYTES) -> None:
        self._target = target
        self._max = max_object_bytes
        self._lock = asyncio.Lock()
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        # Folders made on this connection: a save into one skips the round trip of making it.
        self._made: set[str] = set()

    @property
    def description(self) -> str:
        t = self._target
        return f"sftp://{t.username}@{t.host}:{t.port}{t.root}"

    async def _client(self) -> asyncssh.SFTPClient:
        async with self._lock:
            if self._sftp is not None and self._conn is not None and not self._conn.is_closed():
                return self._sftp
            t = self._target
            try:
                self._conn = await asyncssh.connect(
                    t.host,
                    t.port,
                    username=t.username,
                    password=t.password.get_secret_value() if t.password else None,
                    client_keys=[str(t.client_key)] if t.client_key else (),
                    known_hosts=str(t.known_hosts) if t.known_hosts else (),
                    connect_timeout=t.connect_timeout,
                )
                self._sftp = await self._conn.start_sftp_client()
                self._made.clear()
                await self._sftp.makedirs(t.root, exist_ok=True)
            except (OSError, asyncssh.Error) as err:
                log.debug("cannot reach %s: %r", self.description, err)
                raise StorageUnavailable(
                    f"the storage at {self.description} cannot be reached ({_reason(err)})"
                ) from err
            return self._sftp

    def _path(self, key: str) -> str:
        return posixpath.join(self._target.root, key)

    def _failed(self, key: str, err: Exception) -> Exception:
        if isinstance(err, asyncssh.SFTPNoSuchFile | FileNotFoundError):
            return StorageNotFound(f"there is no file {key!r}")
        if isinstance(err, asyncssh.DisconnectError | asyncssh.ConnectionLost | OSError):
            self._sftp = None
        return StorageUnavailable(
            f"the storage at {self.description} failed on {key!r} ({_reason(err)})"
        )

    async def save(self, key: str, data: bytes) -> StoredFile:
        check_key(key)
        if len(data) > self._max:
            raise TooLarge(f"{key!r} is {len(data)} bytes; one file may be at most {self._max}")
        sftp = await self._client()
        path = self._path(key)
        partial = f"{path}.partial"
        try:
            folder = posixpath.dirname(path)
            if folder not in self._made:
                await sftp.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            # Written aside then renamed, so a reader never sees half a file.
            async with sftp.open(partial, "wb") as handle:
                await handle.write(data)
            await sftp.posix_rename(partial, path)
        except (OSError, asyncssh.Error) as err:
            self._made.clear()  # a folder may have been removed behind our back
            raise self._failed(key, err) from err
        return StoredFile(key, len(data), datetime.now(UTC))

    async def load(self, key: str) -> bytes:
        check_key(key)
        sftp = await self._client()
        try:
            async with sftp.open(self._path(key), "rb") as handle:
                return _binary(await handle.read())
        except (OSError, asyncssh.Error) as err:
            raise self._failed(key, err) from err

    async def open_stream(
        self, key: str, *, chunk_size: int = DEFAULT_CHUNK
    ) -> AsyncIterator[bytes]:
        check_key(key)
        sftp = await self._client()
        try:
            async with sftp.open(self._path(key), "rb") as handle:
                while chunk := await handle.read(chunk_size):
                    yield _binary(chunk)
        except (OSError, asyncssh.Error) as err:
            raise self._failed(key, err) from err

    async def delete(self, key: str) -> None:
        check_key(key)
        sftp = await self._client()
        try:
            await sftp.remove(self._path(key))
        except (OSError, asyncssh.Error) as err:
            raise self._failed(key, err) from err

    async def stat(self, key: str) -> StoredFile:
        check_key(key)
        sftp = await self._client()
        try:
            attrs = await sftp.stat(self._path(key))
        except (OSError, asyncssh.Error) as err:
            raise self._failed(key, err) from err
        if attrs.permissions is not None and stat_mode.S_ISDIR(attrs.permissions):
            raise StorageNotFound(f"there is no file {key!r} (it is a folder)")
        return _stored(key, attrs)

    async def list(self, prefix: str = "") -> list[StoredFile]:
        check_prefix(prefix)
        sftp = await self._client()
        found: list[StoredFile] = []
        folder = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0]
        pending = [folder.rstrip("/")]
        try:
            while pending:
                here = pending.pop()
                try:
                    entries = await sftp.readdir(self._path(here) if here else self._target.root)
                except asyncssh.SFTPNoSuchFile:
                    continue
                for entry in entries:
                    name = str(entry.filename)
                    if name in (".", "..") or name.endswith(".partial"):
                        continue
                    key = f"{here}/{name}" if here else name
                    mode = entry.attrs.permissions or 0
                    if stat_mode.S_ISDIR(mode):
                        pending.append(key)
                    elif key.startswith(prefix):
                        found.append(_stored(key, entry.attrs))
        except (OSError, asyncssh.Error) as err:
            raise self._failed(prefix or "/", err) from err
        return sorted(found, key=lambda f: f.key)

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()
        self._conn = self._sftp = None


def _stored(key: str, attrs: asyncssh.SFTPAttrs) -> StoredFile:
    modified = datetime.fromtimestamp(attrs.mtime or 0, UTC)
    return StoredFile(key, int(attrs.size or 0), modified)


def _reason(err: Exception) -> str:
    """The kind of failure, without anything the server or the target might echo back."""
    if isinstance(err, asyncssh.PermissionDenied):
        return "the user name or credentials were refused"
    if isinstance(err, asyncssh.HostKeyNotVerifiable):
        return "the host's key is not in known_hosts"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, TimeoutError):
        return "timed out"
    return type(err).__name__


def _binary(data: str | bytes) -> bytes:
    # Files are opened in binary mode; asyncssh types reads as either.
    return data if isinstance(data, bytes) else data.encode()
