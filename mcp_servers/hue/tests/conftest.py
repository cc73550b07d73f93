"""Fixtures for the Hue server's tests: the fake bridge of ``angie_mcp_hue.testing``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from angie_mcp_hue.client import HueClient
from angie_mcp_hue.settings import HueSettings
from angie_mcp_hue.testing import FakeHueBridge
from pydantic import SecretStr


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_HUE_* from the developer's shell, no .env, and a HOME phue could not touch."""
    for name in ("BRIDGE_HOST", "USERNAME", "TIMEOUT"):
        monkeypatch.delenv(f"ANGIE_HUE_{name}", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_hue() -> Iterator[FakeHueBridge]:
    with FakeHueBridge() as fake:
        yield fake


@pytest.fixture
def hue_settings(fake_hue: FakeHueBridge) -> HueSettings:
    return HueSettings(
        _env_file=None, bridge_host=fake_hue.host, username=SecretStr(fake_hue.username), timeout=2
    )


@pytest.fixture
def phue_config(tmp_path: Path) -> Path:
    """Where phue would keep its ~/.python_hue; the client must never create it."""
    return tmp_path / ".python_hue"


@pytest.fixture
def client(hue_settings: HueSettings, phue_config: Path) -> HueClient:
    return HueClient(hue_settings, config_file_path=str(phue_config))


@pytest.fixture(scope="module")
def shared_fake_hue() -> Iterator[FakeHueBridge]:
    """One bridge for a module's server subprocess; only for tests that change nothing."""
    with FakeHueBridge() as fake:
        yield fake
