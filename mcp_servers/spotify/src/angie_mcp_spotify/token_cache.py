"""spotipy's token cache on the kit's encrypted token file, so refreshed tokens stay encrypted."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import spotipy

from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.tokens import TokenFile
from angie_mcp_spotify.errors import NotSignedInError
from angie_mcp_spotify.settings import SpotifySettings

__all__ = ("EncryptedCacheHandler",)


class EncryptedCacheHandler(spotipy.CacheHandler):  # type: ignore[misc]  # spotipy is untyped
    """Keeps the account's access and refresh tokens in a Fernet-encrypted 0600 file.

    The file is read on every use, so a sign-in made by `angie-mcp-spotify auth` while the
    server runs takes effect at once; spotipy saves every refreshed token back through it.
    """

    def __init__(self, token_file: TokenFile) -> None:
        self._file = token_file

    @classmethod
    def from_settings(cls, settings: SpotifySettings) -> Self:
        key = settings.token_key.get_secret_value() if settings.token_key else None
        key_name = settings.env_name("token_key") if key else ""
        return cls(TokenFile(settings.token_path(), key, key_name=key_name))

    @property
    def path(self) -> Path:
        return self._file.path

    def get_cached_token(self) -> dict[str, Any] | None:
        try:
            return self._file.load()
        except DecryptError as err:
            # A tool cannot recover from this; signing in again writes a fresh file.
            raise NotSignedInError(
                f"the stored sign-in in {self._file.path} cannot be decrypted with the current key"
            ) from err

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        self._file.save(token_info)
