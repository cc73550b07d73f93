"""The encrypted token file spotipy keeps the account's tokens in."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_spotify.errors import NotSignedInError
from angie_mcp_spotify.server import create_client
from angie_mcp_spotify.settings import SpotifySettings
from angie_mcp_spotify.token_cache import EncryptedCacheHandler
from pydantic import SecretStr

from angie_mcp_core.tokens import default_state_dir


def test_tokens_round_trip_through_the_file(
    fake_spotify: Any, server_settings: SpotifySettings
) -> None:
    token = fake_spotify.token_info()
    EncryptedCacheHandler.from_settings(server_settings).save_token_to_cache(token)
    assert EncryptedCacheHandler.from_settings(server_settings).get_cached_token() == token


def test_the_file_holds_no_plaintext_token(
    fake_spotify: Any, server_settings: SpotifySettings
) -> None:
    token = fake_spotify.token_info()
    EncryptedCacheHandler.from_settings(server_settings).save_token_to_cache(token)
    stored = server_settings.token_path().read_bytes()
    assert token["refresh_token"].encode() not in stored
    assert token["access_token"].encode() not in stored
    assert b"refresh_token" not in stored


def test_the_file_is_readable_by_its_owner_only(
    fake_spotify: Any, server_settings: SpotifySettings
) -> None:
    EncryptedCacheHandler.from_settings(server_settings).save_token_to_cache(
        fake_spotify.token_info()
    )
    assert stat.S_IMODE(server_settings.token_path().stat().st_mode) == 0o600


def test_no_file_yet_means_no_token_and_creates_nothing(
    server_settings: SpotifySettings,
) -> None:
    settings = server_settings.model_copy(update={"token_key": None})
    assert EncryptedCacheHandler.from_settings(settings).get_cached_token() is None
    assert not settings.token_path().parent.exists()


def test_without_a_key_setting_a_private_key_file_is_generated_and_reused(
    fake_spotify: Any, server_settings: SpotifySettings
) -> None:
    settings = server_settings.model_copy(update={"token_key": None})
    token = fake_spotify.token_info()
    EncryptedCacheHandler.from_settings(settings).save_token_to_cache(token)
    key_file = settings.token_path().with_suffix(".key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert EncryptedCacheHandler.from_settings(settings).get_cached_token() == token


def test_a_changed_key_asks_to_sign_in_again(
    fake_spotify: Any, server_settings: SpotifySettings
) -> None:
    EncryptedCacheHandler.from_settings(server_settings).save_token_to_cache(
        fake_spotify.token_info()
    )
    other = server_settings.model_copy(update={"token_key": SecretStr("another-key-entirely")})
    with pytest.raises(NotSignedInError, match="angie-mcp-spotify auth"):
        EncryptedCacheHandler.from_settings(other).get_cached_token()


def test_refresh_of_an_expired_token_rewrites_the_file(
    fake_spotify: Any, server_settings: SpotifySettings, store_sign_in: Any
) -> None:
    stale = store_sign_in(fake_spotify, lifetime=-5)
    before = server_settings.token_path().read_bytes()
    with create_client(server_settings) as client:
        assert len(client.devices()) == 2
    assert fake_spotify.refreshes == 1
    assert server_settings.token_path().read_bytes() != before
    stored = EncryptedCacheHandler.from_settings(server_settings).get_cached_token()
    assert stored is not None
    assert stored["access_token"] != stale["access_token"]
    assert stored["access_token"] in fake_spotify.access_tokens
    assert stored["refresh_token"] == stale["refresh_token"]


def test_default_token_file_is_in_the_servers_state_dir() -> None:
    settings = SpotifySettings(_env_file=None)
    assert settings.token_path() == default_state_dir("spotify") / "tokens.enc"


def test_token_file_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANGIE_SPOTIFY_TOKEN_FILE", str(tmp_path / "t.enc"))
    assert SpotifySettings(_env_file=None).token_path() == tmp_path / "t.enc"
