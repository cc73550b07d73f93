"""Fixtures for the Gmail server's tests, around the fake in its ``testing`` module."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_gmail.settings import GmailSettings
from angie_mcp_gmail.testing import CLIENT_ID, CLIENT_SECRET, COMPOSE, MODIFY, READONLY, FakeGmail

from angie_mcp_core.google.account import token_file

TOKEN_KEY = "test-token-key-0123456789abcdef"
#: ``(writes=False, **overrides)`` -> settings for the fake, tokens in tmp_path.
MakeSettings = Callable[..., GmailSettings]
#: ``(settings, scopes=None, **fields)`` -> the tokens stored as `auth` would.
SignIn = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_GMAIL_* from the developer's shell, and no `.env` or token file of theirs."""
    for name in [n for n in os.environ if n.startswith("ANGIE_GMAIL_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeGmail]:
    with FakeGmail() as service:
        yield service


@pytest.fixture
def make_settings(fake: FakeGmail, tmp_path: Path) -> MakeSettings:
    def make(writes: bool = False, **overrides: Any) -> GmailSettings:
        return GmailSettings(
            _env_file=None,
            **{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "api_url": fake.api_url,
                "token_uri": fake.token_uri,
                "auth_uri": fake.auth_uri,
                "token_file": tmp_path / "state" / "tokens.enc",
                "token_key": TOKEN_KEY,
                "download_dir": tmp_path / "downloads",
                "writes": writes,
                **overrides,
            },
        )

    return make


@pytest.fixture
def sign_in(fake: FakeGmail) -> SignIn:
    def store(
        settings: GmailSettings, scopes: list[str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        tokens = {**fake.sign_in(scopes), **fields}
        token_file(settings).save(tokens)
        return tokens

    return store


@pytest.fixture
def reader(make_settings: MakeSettings, sign_in: SignIn) -> GmailSettings:
    """Signed in read-only, writing off."""
    settings = make_settings()
    sign_in(settings)
    return settings


@pytest.fixture
def writer(make_settings: MakeSettings, sign_in: SignIn) -> GmailSettings:
    """Signed in with the modify and compose scopes, writing on."""
    settings = make_settings(writes=True)
    sign_in(settings, [READONLY, MODIFY, COMPOSE])
    return settings
