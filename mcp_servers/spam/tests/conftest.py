"""Fixtures for the spam server's tests: a fresh data folder and the sample mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from angie_mcp_spam.client import SpamClient
from angie_mcp_spam.settings import SpamSettings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_SPAM_* from the developer's shell, no .env, and a HOME of the test's own."""
    for name in ("DATA_DIR", "MAX_MESSAGE_BYTES", "MAX_BATCH", "SPAM_THRESHOLD", "TOKEN"):
        monkeypatch.delenv(f"ANGIE_SPAM_{name}", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "spam-data"


@pytest.fixture
def spam_settings(data_dir: Path) -> SpamSettings:
    return SpamSettings(_env_file=None, data_dir=data_dir)


@pytest.fixture
def client(spam_settings: SpamSettings) -> SpamClient:
    return SpamClient(spam_settings)
