"""Fixtures for the Outlook server's tests, around the fake in its ``testing`` module."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_outlook.account import token_file
from angie_mcp_outlook.settings import OutlookSettings
from angie_mcp_outlook.testing import CLIENT_ID, READ, READ_WRITE, SEND, FakeOutlook

TOKEN_KEY = "test-token-key-0123456789abcdef"
#: ``(writes=False, **overrides)`` -> settings for the fake, tokens in tmp_path.
MakeSettings = Callable[..., OutlookSettings]
#: ``(settings, scopes=None, **fields)`` -> the tokens stored as `auth` would.
SignIn = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_OUTLOOK_* from the developer's shell, and no `.env` or token file of theirs."""
    for name in [n for n in os.environ if n.startswith("ANGIE_OUTLOOK_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeOutlook]:
    with FakeOutlook() as service:
        yield service


@pytest.fixture
def make_settings(fake: FakeOutlook, tmp_path: Path) -> MakeSettings:
    def make(writes: bool = False, **overrides: Any) -> OutlookSettings:
        return OutlookSettings(
            _env_file=None,
            **{
                "client_id": CLIENT_ID,
                "graph_url": fake.graph_url,
                "login_url": fake.login_url,
                "token_file": tmp_path / "state" / "tokens.enc",
                "token_key": TOKEN_KEY,
                "download_dir": tmp_path / "downloads",
                "writes": writes,
                **overrides,
            },
        )

    return make


@pytest.fixture
def sign_in(fake: FakeOutlook) -> SignIn:
    def store(
        settings: OutlookSettings, scopes: list[str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        tokens = {**fake.sign_in(scopes), **fields}
        token_file(settings).save(tokens)
        return tokens

    return store


@pytest.fixture
def reader(make_settings: MakeSettings, sign_in: SignIn) -> OutlookSettings:
    """Signed in with Mail.Read, writing off."""
    settings = make_settings()
    sign_in(settings)
    return settings


@pytest.fixture
def writer(make_settings: MakeSettings, sign_in: SignIn) -> OutlookSettings:
    """Signed in with Mail.ReadWrite and Mail.Send, writing on."""
    settings = make_settings(writes=True)
    sign_in(settings, [READ, READ_WRITE, SEND])
    return settings
