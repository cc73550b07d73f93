"""Fixtures for the UniFi server's tests: the fake controller of ``angie_mcp_unifi.testing``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_unifi.client import UnifiClient
from angie_mcp_unifi.settings import UnifiSettings
from angie_mcp_unifi.testing import FakeUnifiController
from pydantic import SecretStr


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_UNIFI_* from the developer's shell and no .env."""
    for name in os.environ:
        if name.startswith("ANGIE_UNIFI_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_unifi() -> Iterator[FakeUnifiController]:
    with FakeUnifiController() as fake:
        yield fake


MakeSettings = Callable[..., UnifiSettings]


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings that reach ``fake`` and trust its certificate; keywords override any field."""

    def make(fake: FakeUnifiController, **overrides: Any) -> UnifiSettings:
        values: dict[str, Any] = {
            "controller_host": "127.0.0.1",
            "controller_port": fake.port,
            "username": fake.username,
            "password": SecretStr(fake.password),
            "ca_file": fake.write_ca(tmp_path / f"ca-{fake.port}.pem"),
            "timeout": 5,
        }
        return UnifiSettings(_env_file=None, **(values | overrides))

    return make


@pytest.fixture
def unifi_settings(fake_unifi: FakeUnifiController, make_settings: MakeSettings) -> UnifiSettings:
    return make_settings(fake_unifi)


@pytest.fixture
async def client(unifi_settings: UnifiSettings) -> AsyncIterator[UnifiClient]:
    unifi = UnifiClient(unifi_settings)
    try:
        yield unifi
    finally:
        await unifi.close()
