"""Angie's one error tree: every failure a person should hear about is one of five kinds.

Services raise these; the API maps a kind to its status code in one handler, and the CLI and the
channels say the message as it is. A module's own errors subclass the kind they are (a schedule
that is not the person's is a :class:`NotFound`), so a caller never has to ask twice which kind
of failure it got.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = (
    "AngieError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "sentence",
)


class AngieError(Exception):
    """A failure with one sentence for the person; ``details`` point at the fields involved."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(AngieError):
    """There is no such thing, or it is someone else's (the two are never told apart)."""

    code = "not_found"


class Conflict(AngieError):
    """The thing exists but its state refuses the change (already decided, name taken, …)."""

    code = "conflict"


class Invalid(AngieError):
    """What was asked is malformed: a bad crontab, timezone, template or setting."""

    code = "invalid"


class Forbidden(AngieError):
    """The person is known but may not do this."""

    code = "forbidden"


class Unauthenticated(AngieError):
    """Nobody is signed in, or the credentials are not valid (any more)."""

    code = "unauthorized"

    def __init__(self, message: str = "sign in first: send Authorization: Bearer <token>") -> None:
        super().__init__(message)


class RateLimited(AngieError):
    """Too many attempts; ``retry_after`` says in how many seconds to try again."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(AngieError):
    """Something Angie depends on (a server, the model, the queue) cannot be had right now."""

    code = "unavailable"


def sentence(err: BaseException) -> str:
    """What to tell a person about ``err``: its own sentence, or a short generic one."""
    if isinstance(err, AngieError):
        return err.message
    return f"something went wrong ({type(err).__name__})"
