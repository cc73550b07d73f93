"""Fixtures for the Home Assistant server's tests, around the fake in its ``testing`` module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from angie_mcp_home_assistant.client import HomeAssistantClient
from angie_mcp_home_assistant.settings import HomeAssistantSettings
from angie_mcp_home_assistant.testing import TOKEN, FakeHomeAssistant
from pydantic import SecretStr


@pytest.fixture
def fake_home_assistant() -> Iterator[FakeHomeAssistant]:
    with FakeHomeAssistant() as fake:
        yield fake


@pytest.fixture(scope="module")
def module_home_assistant() -> Iterator[FakeHomeAssistant]:
    """One fake for a whole module, for servers run as subprocesses (slow to start)."""
    with FakeHomeAssistant() as fake:
        yield fake


@pytest.fixture
def make_client(
    fake_home_assistant: FakeHomeAssistant,
) -> Iterator[Callable[..., HomeAssistantClient]]:
    """Build clients pointed at the fake (settings overridable); all are closed afterwards."""
    made: list[HomeAssistantClient] = []

    def make(**overrides: Any) -> HomeAssistantClient:
        values: dict[str, Any] = {
            "url": fake_home_assistant.url,
            "access_token": SecretStr(TOKEN),
            "timeout": 5.0,
            **overrides,
        }
        settings = HomeAssistantSettings(_env_file=None, **values)
        made.append(HomeAssistantClient(settings))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., HomeAssistantClient]) -> HomeAssistantClient:
    return make_client()
