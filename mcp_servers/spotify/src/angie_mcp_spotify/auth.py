"""Spotify's authorization-code flow for a server: no browser, no terminal, no ``.cache`` file."""

from __future__ import annotations

import logging
from typing import Any, Final, NoReturn

import spotipy

from angie_mcp_spotify.errors import NotSignedInError

__all__ = ("SCOPES", "HeadlessOAuth", "quiet_spotipy_debug_logs")

# What the tools need: read and control playback, read and edit the user's playlists.
SCOPES: Final = (
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "user-read-private",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
)


class HeadlessOAuth(spotipy.SpotifyOAuth):  # type: ignore[misc]  # spotipy is untyped
    """spotipy's authorization-code flow against ``accounts_url``, minus its interactive parts.

    Pass a ``cache_handler``: without one spotipy writes tokens to ``.cache`` in the cwd.
    """

    def __init__(self, *, accounts_url: str, **kwargs: Any) -> None:
        super().__init__(open_browser=False, scope=list(SCOPES), **kwargs)
        self.OAUTH_AUTHORIZE_URL = f"{accounts_url}/authorize"
        self.OAUTH_TOKEN_URL = f"{accounts_url}/api/token"

    def get_auth_response(self, open_browser: bool | None = None) -> NoReturn:
        # spotipy falls back to an interactive sign-in whenever the stored token is missing or
        # lacks a scope; a server has no browser or terminal, so it must say so instead.
        raise NotSignedInError("the stored sign-in is missing or lacks permissions Angie needs")


def quiet_spotipy_debug_logs() -> None:
    """Keep spotipy below DEBUG, where it logs whole request headers with the tokens in them."""
    for name in ("spotipy.client", "spotipy.oauth2"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
