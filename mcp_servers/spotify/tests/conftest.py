"""Fixtures for the Spotify server's tests, around the fake in its ``testing`` module."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import spotipy
from angie_mcp_spotify.client import SpotifyClient
from angie_mcp_spotify.settings import SpotifySettings
from angie_mcp_spotify.testing import CLIENT_ID, CLIENT_SECRET, FakeSpotify
from angie_mcp_spotify.token_cache import EncryptedCacheHandler


@pytest.fixture
def fake_spotify() -> Iterator[FakeSpotify]:
    with FakeSpotify() as fake:
        yield fake


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> SpotifySettings:
    for name in ("CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "TIMEOUT"):
        monkeypatch.delenv(f"ANGIE_SPOTIFY_{name}", raising=False)
    return SpotifySettings(_env_file=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.fixture
def token_cache(fake_spotify: FakeSpotify) -> Any:
    """spotipy's in-memory token store, holding a valid sign-in."""
    return spotipy.MemoryCacheHandler(fake_spotify.token_info())


@pytest.fixture
def client(
    fake_spotify: FakeSpotify, settings: SpotifySettings, token_cache: Any
) -> Iterator[SpotifyClient]:
    with SpotifyClient(
        settings,
        token_cache,
        api_url=f"{fake_spotify.base_url}/v1/",
        accounts_url=fake_spotify.base_url,
    ) as spotify:
        yield spotify


# -- the MCP server's fixtures ---------------------------------------------------------------

TOKEN_KEY = "test-token-key-0123456789abcdef"

#: ``(fake, lifetime=None)`` -> the token stored; see ``store_sign_in``.
StoreSignIn = Callable[..., dict[str, Any]]
#: ``(fake, state_dir, **extra)`` -> the environment of a server subprocess; see ``server_env``.
ServerEnv = Callable[..., dict[str, str]]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_SPOTIFY_* from the developer's shell, and no `.env` or token file of theirs."""
    for name in [n for n in os.environ if n.startswith("ANGIE_SPOTIFY_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _settings_for(fake: FakeSpotify, state_dir: Path) -> SpotifySettings:
    return SpotifySettings(
        _env_file=None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_url=f"{fake.base_url}/v1/",
        accounts_url=fake.base_url,
        token_file=state_dir / "tokens.enc",
        token_key=TOKEN_KEY,
    )


@pytest.fixture
def server_settings(fake_spotify: FakeSpotify, tmp_path: Path) -> SpotifySettings:
    """Configured for the fake, its encrypted token file in tmp_path: not signed in yet."""
    return _settings_for(fake_spotify, tmp_path / "state")


@pytest.fixture
def store_sign_in(server_settings: SpotifySettings) -> StoreSignIn:
    """Store a sign-in to a fake in server_settings' token file, as `auth` does."""

    def store(fake: FakeSpotify, lifetime: float | None = None) -> dict[str, Any]:
        token = fake.token_info(lifetime)
        EncryptedCacheHandler.from_settings(server_settings).save_token_to_cache(token)
        return token

    return store


@pytest.fixture
def signed_in(
    fake_spotify: FakeSpotify, server_settings: SpotifySettings, store_sign_in: StoreSignIn
) -> SpotifySettings:
    """Configured for the fake and signed in to it."""
    store_sign_in(fake_spotify)
    return server_settings


@pytest.fixture(scope="session")
def server_env() -> ServerEnv:
    """The environment of a server subprocess configured for a fake (and signed in to it)."""

    def env(fake: FakeSpotify, state_dir: Path, **extra: str) -> dict[str, str]:
        settings = _settings_for(fake, state_dir)
        EncryptedCacheHandler.from_settings(settings).save_token_to_cache(fake.token_info())
        return {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "ANGIE_SPOTIFY_CLIENT_ID": CLIENT_ID,
            "ANGIE_SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_SPOTIFY_API_URL": f"{fake.base_url}/v1/",
            "ANGIE_SPOTIFY_ACCOUNTS_URL": fake.base_url,
            "ANGIE_SPOTIFY_TOKEN_FILE": str(state_dir / "tokens.enc"),
            "ANGIE_SPOTIFY_TOKEN_KEY": TOKEN_KEY,
            "ANGIE_SPOTIFY_LOG_LEVEL": "WARNING",
            **extra,
        }

    return env


@pytest.fixture(scope="module")
def module_fake() -> Iterator[FakeSpotify]:
    """One fake for the whole module, for a server subprocess started once per module."""
    with FakeSpotify() as fake:
        yield fake
