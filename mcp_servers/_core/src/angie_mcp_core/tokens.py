"""OAuth tokens at rest: a JSON document, Fernet-encrypted, in the server's own 0600 file."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from angie_mcp_core.crypto import DecryptError, SecretBox

__all__ = ("TokenFile", "default_state_dir")


def default_state_dir(server: str) -> Path:
    """Where a server keeps its own state: ``<user data dir>/angie/mcp/<server>``."""
    return Path(user_data_dir("angie", appauthor=False)) / "mcp" / server


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600: a crash never leaves half a token file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class TokenFile:
    """Load and save one server's tokens.

    The key is ``secret`` when the server's settings give one (e.g. ``ANGIE_SPOTIFY_TOKEN_KEY``);
    otherwise a random key generated once into ``<file>.key`` beside it, also 0600.
    """

    def __init__(self, path: Path, secret: str | None = None, *, key_name: str = "") -> None:
        self.path = path
        self._secret = secret
        self._key_name = key_name or f"the key file {path.with_suffix('.key')}"
        self._box: SecretBox | None = None
        # The last document read or written, by the file's identity: a server that looks at
        # its tokens on every call decrypts them again only when the file changed.
        self._cached: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    def _key(self) -> str:
        if self._secret:
            return self._secret
        key_path = self.path.with_suffix(".key")
        if not key_path.exists():
            _write_private(key_path, secrets.token_urlsafe(48).encode())
        return key_path.read_text(encoding="utf-8").strip()

    def _get_box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(
                self._key(), purpose="angie/mcp/tokens/v1", key_name=self._key_name
            )
        return self._box

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        # Saving replaces the file (a new inode), and another process's save does the same.
        return (found.st_ino, found.st_mtime_ns, found.st_size)

    def load(self) -> dict[str, Any] | None:
        """The stored tokens, or None when there are none yet (a copy: change it freely)."""
        identity = self._identity()
        if identity is None:
            self._cached = None
            return None
        if self._cached is not None and self._cached[0] == identity:
            return dict(self._cached[1])
        try:
            data = json.loads(self._get_box().decrypt(self.path.read_bytes()))
        except (DecryptError, json.JSONDecodeError) as err:
            raise DecryptError(
                f"the token file {self.path} cannot be read ({err}); sign in again"
            ) from err
        if not isinstance(data, dict):
            raise DecryptError(f"the token file {self.path} does not hold tokens; sign in again")
        self._cached = (identity, data)
        return dict(data)

    def save(self, tokens: dict[str, Any]) -> None:
        _write_private(self.path, self._get_box().encrypt(json.dumps(tokens)))
        identity = self._identity()
        self._cached = None if identity is None else (identity, dict(tokens))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self._cached = None
