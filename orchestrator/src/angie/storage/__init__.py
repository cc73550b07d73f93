"""Where Angie keeps files (attachments, exports, scratch files, reports): one interface over
the local disk, a NAS (a mounted share or SFTP) and S3-compatible object storage."""

from angie.storage.base import Storage, StoredFile
from angie.storage.errors import (
    InvalidKey,
    QuotaExceeded,
    StorageNotFound,
    StorageUnavailable,
    TooLarge,
)
from angie.storage.url import StorageCredentials, StorageUrlError, open_storage

__all__ = (
    "InvalidKey",
    "QuotaExceeded",
    "Storage",
    "StorageCredentials",
    "StorageNotFound",
    "StorageUnavailable",
    "StorageUrlError",
    "StoredFile",
    "TooLarge",
    "open_storage",
)
