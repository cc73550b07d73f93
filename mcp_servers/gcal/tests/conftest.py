"""Fixtures for the Google Calendar server's tests, around the fake in its ``testing`` module."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_gcal.client import GcalClient
from angie_mcp_gcal.settings import GcalSettings
from angie_mcp_gcal.testing import CLIENT_ID, CLIENT_SECRET, EVENTS, READONLY, FakeGoogleCalendar

from angie_mcp_core.google.account import token_file

TOKEN_KEY = "test-token-key-0123456789abcdef"

#: ``(writes=False, **overrides)`` -> settings for the fake, tokens in tmp_path.
MakeSettings = Callable[..., GcalSettings]
#: ``(settings, scopes=None, **fields)`` -> the tokens stored as `auth` would.
SignIn = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_GCAL_* from the developer's shell, and no `.env` or token file of theirs."""
    for name in [n for n in os.environ if n.startswith("ANGIE_GCAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar("Europe/Paris") as service:
        yield service


def settings_for(fake: FakeGoogleCalendar, state: Path, **overrides: Any) -> GcalSettings:
    return GcalSettings(
        _env_file=None,
        **{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_url": fake.api_url,
            "token_uri": fake.token_uri,
            "auth_uri": fake.auth_uri,
            "token_file": state / "tokens.enc",
            "token_key": TOKEN_KEY,
            **overrides,
        },
    )


@pytest.fixture
def make_settings(fake: FakeGoogleCalendar, tmp_path: Path) -> MakeSettings:
    def make(writes: bool = False, **overrides: Any) -> GcalSettings:
        return settings_for(fake, tmp_path / "state", writes=writes, **overrides)

    return make


@pytest.fixture
def sign_in(fake: FakeGoogleCalendar) -> SignIn:
    def store(
        settings: GcalSettings, scopes: list[str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        tokens = {**fake.sign_in(scopes), **fields}
        token_file(settings).save(tokens)
        return tokens

    return store


@pytest.fixture
def reader(make_settings: MakeSettings, sign_in: SignIn) -> GcalSettings:
    """Signed in read-only, writing off."""
    settings = make_settings()
    sign_in(settings)
    return settings


@pytest.fixture
def writer(make_settings: MakeSettings, sign_in: SignIn) -> GcalSettings:
    """Signed in with the events scope, writing on."""
    settings = make_settings(writes=True)
    sign_in(settings, [READONLY, EVENTS])
    return settings


def _client_for(settings: GcalSettings) -> GcalClient:
    assert settings.api_url is not None
    assert settings.token_uri is not None
    return GcalClient(settings, api_url=settings.api_url, token_uri=settings.token_uri)


@pytest.fixture
def client_for() -> Callable[[GcalSettings], GcalClient]:
    """A client for any settings (close it: ``with client_for(settings) as client:``)."""
    return _client_for


@pytest.fixture
def gcal(reader: GcalSettings) -> Iterator[GcalClient]:
    with _client_for(reader) as client:
        yield client


@pytest.fixture
def gcal_writer(writer: GcalSettings) -> Iterator[GcalClient]:
    with _client_for(writer) as client:
        yield client
