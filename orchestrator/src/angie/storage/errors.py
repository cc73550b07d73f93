"""What can go wrong with stored files, as kinds of Angie's one error tree: each message says
what and why (never a credential), so it can be shown to the person or, in a tool, to the model."""

from __future__ import annotations

from angie import errors

__all__ = ("InvalidKey", "QuotaExceeded", "StorageNotFound", "StorageUnavailable", "TooLarge")


class InvalidKey(errors.Invalid):
    """A key that is not a plain relative path (``..``, absolute, empty parts, too long)."""


class StorageNotFound(errors.NotFound):
    """No file under that key."""


class TooLarge(errors.Invalid):
    """One file over the size a single save may write."""


class QuotaExceeded(errors.Invalid):
    """A save that would take a bounded area (a conversation's scratch files) over its size."""


class StorageUnavailable(errors.Unavailable):
    """The backend could not be reached or answered with an error of its own."""
