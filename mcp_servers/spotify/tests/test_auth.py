"""`angie-mcp-spotify auth`: the sign-in flow with stdin and stdout, against the fake accounts."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from angie_mcp_spotify.__main__ import main
from angie_mcp_spotify.settings import SpotifySettings
from angie_mcp_spotify.token_cache import EncryptedCacheHandler

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret-s3cr3t"
TOKEN_KEY = "auth-test-key-0123456789"

Tamper = Callable[[str], str]


class _User:
    """A person at the terminal: reads the printed URL, "opens" it, pastes the redirect back."""

    def __init__(self, capsys: pytest.CaptureFixture[str], tamper: Tamper = lambda url: url):
        self._capsys = capsys
        self._tamper = tamper
        self.printed = ""

    def readline(self) -> str:
        self.printed = self._capsys.readouterr().out
        found = re.search(r"^http://\S+/authorize\?\S+$", self.printed, re.MULTILINE)
        assert found is not None, self.printed
        # The browser's part: Spotify answers the authorize URL with a redirect to the app.
        answer = httpx.get(found[0], follow_redirects=False, timeout=5)
        assert answer.status_code == 302
        return self._tamper(answer.headers["location"]) + "\n"


@pytest.fixture
def auth_env(fake_spotify: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The environment `auth` reads its settings from; returns the token file."""
    token_file = tmp_path / "state" / "tokens.enc"
    for name, value in {
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "API_URL": f"{fake_spotify.base_url}/v1/",
        "ACCOUNTS_URL": fake_spotify.base_url,
        "TOKEN_FILE": str(token_file),
        "TOKEN_KEY": TOKEN_KEY,
    }.items():
        monkeypatch.setenv(f"ANGIE_SPOTIFY_{name}", value)
    return token_file


def _stored(token_file: Path) -> dict[str, Any] | None:
    settings = SpotifySettings(_env_file=None, token_file=token_file, token_key=TOKEN_KEY)
    token: dict[str, Any] | None = EncryptedCacheHandler.from_settings(settings).get_cached_token()
    return token


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def test_auth_signs_in_and_stores_the_tokens_encrypted(
    fake_spotify: Any,
    auth_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = _User(capsys)
    monkeypatch.setattr(sys, "stdin", user)
    assert main(["auth"]) == 0
    out = capsys.readouterr().out
    assert "Open this URL" in user.printed
    assert "Signed in to Spotify as Ada (ada, premium)." in out
    stored = _stored(auth_env)
    assert stored is not None
    assert stored["refresh_token"] in fake_spotify.refresh_tokens
    assert stored["refresh_token"].encode() not in auth_env.read_bytes()


def test_auth_sends_a_random_state_each_time(
    auth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    states = []
    for _ in range(2):
        user = _User(capsys)
        monkeypatch.setattr(sys, "stdin", user)
        assert main(["auth"]) == 0
        url = re.search(r"http://\S+/authorize\?\S+", user.printed)
        assert url is not None
        states.append(parse_qs(urlsplit(url[0]).query)["state"][0])
    assert states[0] != states[1]
    assert len(states[0]) >= 16


def test_auth_with_a_wrong_state_fails_with_one_line_and_stores_nothing(
    auth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _User(capsys, lambda url: _with_query(url, state="evil")))
    assert main(["auth"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("angie-mcp-spotify auth: ")
    assert "state does not match" in err
    assert len(err.splitlines()) == 1
    assert not auth_env.exists()


def test_auth_with_a_refused_code_fails_with_one_line_and_stores_nothing(
    auth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper: Tamper = lambda url: _with_query(url, code="code-never-issued")  # noqa: E731
    monkeypatch.setattr(sys, "stdin", _User(capsys, tamper))
    assert main(["auth"]) == 1
    err = capsys.readouterr().err.strip()
    assert "did not accept the authorization code" in err
    assert len(err.splitlines()) == 1
    assert not auth_env.exists()


def test_auth_with_a_denied_authorization_fails_with_one_line(
    auth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def deny(url: str) -> str:
        state = parse_qs(urlsplit(url).query)["state"][0]
        return f"http://127.0.0.1:8888/callback?error=access_denied&state={state}"

    monkeypatch.setattr(sys, "stdin", _User(capsys, deny))
    assert main(["auth"]) == 1
    err = capsys.readouterr().err.strip()
    assert "access_denied" in err
    assert len(err.splitlines()) == 1


def test_auth_with_nothing_pasted_fails(
    auth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _User(capsys, lambda url: ""))
    assert main(["auth"]) == 1
    assert "no redirect URL was pasted" in capsys.readouterr().err


def test_auth_unconfigured_names_the_env_vars_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ANGIE_SPOTIFY_TOKEN_FILE", str(tmp_path / "tokens.enc"))
    assert main(["auth"]) == 2
    err = capsys.readouterr().err.strip()
    assert "ANGIE_SPOTIFY_CLIENT_ID, ANGIE_SPOTIFY_CLIENT_SECRET" in err
    assert len(err.splitlines()) == 1
