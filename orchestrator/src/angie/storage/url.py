"""Which storage ANGIE_STORAGE_URL names, built from it and the settings' credentials:
``file:///path`` or a plain path (the local disk or a mounted NAS share),
``sftp://user@host[:port]/path``, ``s3://bucket[/prefix]?endpoint=…&region=…`` and
``memory://`` (nothing kept, for trials)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from obstore.store import LocalStore, MemoryStore, S3Store
from pydantic import SecretStr

from angie.errors import Invalid
from angie.storage.base import MAX_OBJECT_BYTES, Storage
from angie.storage.objects import ObjectStorage
from angie.storage.sftp import SftpStorage, SftpTarget

__all__ = ("StorageCredentials", "StorageUrlError", "open_storage")

_S3_OPTIONS = {"endpoint", "region", "allow_http"}


class StorageUrlError(Invalid):
    """ANGIE_STORAGE_URL names no storage Angie can use."""


@dataclass(frozen=True, slots=True)
class StorageCredentials:
    """The secrets a URL must not hold: S3 keys, an SFTP password or key, known hosts."""

    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    password: SecretStr | None = None
    ssh_key: Path | None = None
    known_hosts: Path | None = None


def open_storage(
    url: str,
    credentials: StorageCredentials | None = None,
    *,
    max_object_bytes: int = MAX_OBJECT_BYTES,
) -> Storage:
    """The storage ``url`` names (nothing is contacted yet)."""
    creds = credentials or StorageCredentials()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "" and url.startswith("/"):
        return _local(Path(url), max_object_bytes)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StorageUrlError(f"a file URL names a local path (file:///path), not {url!r}")
        return _local(Path(unquote(parts.path)), max_object_bytes)
    if scheme == "memory":
        return ObjectStorage(MemoryStore(), description="memory", max_object_bytes=max_object_bytes)
    if parts.password:
        raise StorageUrlError(
            "ANGIE_STORAGE_URL must not hold a password; set ANGIE_STORAGE_PASSWORD instead"
        )
    if scheme == "sftp":
        return _sftp(url, creds, max_object_bytes)
    if scheme == "s3":
        return _s3(url, creds, max_object_bytes)
    raise StorageUrlError(
        f"ANGIE_STORAGE_URL {scheme or url!r} is not a storage Angie knows "
        "(file:///path, a path, sftp://user@host/path, s3://bucket/prefix, memory://)"
    )


def _local(path: Path, max_object_bytes: int) -> Storage:
    if not path.is_absolute():
        raise StorageUrlError(f"the storage path {str(path)!r} must be absolute")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageUrlError(f"cannot use {path} for storage ({err.strerror})") from err
    store = LocalStore(path)
    return ObjectStorage(store, description=str(path), max_object_bytes=max_object_bytes)


def _sftp(url: str, creds: StorageCredentials, max_object_bytes: int) -> Storage:
    parts = urlsplit(url)
    if not parts.hostname or not parts.username:
        raise StorageUrlError("an SFTP storage URL is sftp://user@host[:port]/path")
    root = unquote(parts.path) or "/"
    if ".." in root.split("/"):
        raise StorageUrlError("the SFTP path must not climb with '..'")
    target = SftpTarget(
        host=parts.hostname,
        port=parts.port or 22,
        username=unquote(parts.username),
        root=root if root.startswith("/") else "/" + root,
        password=creds.password,
        client_key=creds.ssh_key,
        known_hosts=creds.known_hosts,
    )
    return SftpStorage(target, max_object_bytes=max_object_bytes)


def _s3(url: str, creds: StorageCredentials, max_object_bytes: int) -> Storage:
    parts = urlsplit(url)
    bucket = parts.hostname
    if not bucket:
        raise StorageUrlError("an S3 storage URL is s3://bucket[/prefix][?endpoint=…]")
    if parts.username:
        raise StorageUrlError("the S3 keys go in ANGIE_STORAGE_ACCESS_KEY_ID/_SECRET_ACCESS_KEY")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - _S3_OPTIONS
    if unknown:
        raise StorageUrlError(
            f"unknown S3 option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_S3_OPTIONS))}"
        )
    prefix = unquote(parts.path).strip("/") or None
    if prefix and ".." in prefix.split("/"):
        raise StorageUrlError("the S3 prefix must not climb with '..'")
    endpoint = query.get("endpoint")
    allow_http = query.get("allow_http", "").lower() in ("1", "true", "yes") or bool(
        endpoint and endpoint.startswith("http://")
    )
    if (creds.access_key_id is None) != (creds.secret_access_key is None):
        raise StorageUrlError(
            "set both ANGIE_STORAGE_ACCESS_KEY_ID and ANGIE_STORAGE_SECRET_ACCESS_KEY, or neither"
        )
    store = S3Store(
        bucket,
        prefix=prefix,
        endpoint=endpoint,
        region=query.get("region", "us-east-1"),
        access_key_id=creds.access_key_id,
        secret_access_key=(
            creds.secret_access_key.get_secret_value() if creds.secret_access_key else None
        ),
        client_options={"allow_http": allow_http, "timeout": "30s", "connect_timeout": "5s"},
        retry_config={"max_retries": 2, "retry_timeout": timedelta(seconds=10)},
    )
    where = f"s3://{bucket}" + (f"/{prefix}" if prefix else "")
    if endpoint:
        where += f" at {endpoint}"
    return ObjectStorage(store, description=where, max_object_bytes=max_object_bytes)
