"""The one-time setup code the first account needs: made while Angie has no account, shown on
her console and in ``<data dir>/setup-code`` (0600), so only whoever runs her can become admin.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import User
from angie.errors import Forbidden

__all__ = ("SETUP_CODE_FILE", "SetupCode", "new_setup_code", "normalise", "read_setup_code")

log = logging.getLogger(__name__)

SETUP_CODE_FILE = "setup-code"
# No 0/O, 1/I/L: read off a console and typed by hand. 31**12 ≈ 2**59 codes.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP = 3, 4


def new_setup_code() -> str:
    """A fresh code such as ``K7QM-2XRT-HB9W``."""
    return "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(_GROUP)) for _ in range(_GROUPS)
    )


def normalise(code: str) -> str:
    """What a person typed, as compared: upper case, without spaces or dashes."""
    return "".join(code.split()).replace("-", "").upper()


def read_setup_code(data_dir: Path) -> str | None:
    """The code a local Angie wrote into ``data_dir``, when there is one and it is readable."""
    try:
        code = (data_dir / SETUP_CODE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return code or None


class SetupCode:
    """The code of this Angie's setup, while she has no account."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SETUP_CODE_FILE
        self.code: str | None = None
        self._taken: str | None = None

    async def prepare(self, session: AsyncSession) -> str | None:
        """At start: a new code while there is no account, else no code and no file."""
        if await session.scalar(select(func.count()).select_from(User)):
            self.code = None
            self.retire()
            return None
        return self.issue()

    def issue(self) -> str:
        """Make a new code, replace the file with it (0600) and show it on the console."""
        code = new_setup_code()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(code + "\n")
        self.code = code
        # WARNING so it shows at every log level; the code is not a password or a token.
        log.warning(
            "Angie has no account yet. The first account needs the setup code %s "
            "(`angie setup` on this machine reads it from %s).",
            code,
            self.path,
        )
        return code

    def retire(self) -> None:
        """The first account exists: the file goes; the code no longer matters."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def take(self) -> None:
        """The code is being used (right after :meth:`check`, with no await between): a
        parallel registration finds none, until :meth:`put_back` if this one fails."""
        self._taken, self.code = self.code, None

    def put_back(self) -> None:
        """The registration that took the code failed: the code works again."""
        if self.code is None:
            self.code, self._taken = self._taken, None

    def check(self, given: str | None) -> None:
        """Raise :class:`Forbidden` unless ``given`` is the code (compared in constant time)."""
        if not given or not given.strip():
            raise Forbidden(
                "the first account needs the setup code Angie printed at start "
                f"(also in {self.path})"
            )
        expected = normalise(self.code or "")
        if not expected or not hmac.compare_digest(
            normalise(given).encode("utf-8", "replace"), expected.encode()
        ):
            raise Forbidden(
                f"the setup code is wrong: use the one Angie printed at start (also in {self.path})"
            )
