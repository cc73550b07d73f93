"""Fixtures for the GitHub server's tests, around the fake in its ``testing`` module."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from angie_mcp_github.client import GitHubClient
from angie_mcp_github.settings import GitHubSettings
from angie_mcp_github.testing import FakeGitHub
from pydantic import SecretStr

# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="module")
def module_fake_github() -> Iterator[FakeGitHub]:
    """One fake for a whole module: for a server subprocess that the module's tests share."""
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def settings(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> GitHubSettings:
    # Only what the test passes counts: no ANGIE_GITHUB_* from the shell or a .env file.
    for name in [n for n in os.environ if n.startswith("ANGIE_GITHUB_")]:
        monkeypatch.delenv(name)
    return GitHubSettings(
        _env_file=None,
        api_token=SecretStr(fake_github.token),
        api_url=fake_github.base_url,
        timeout=5,
    )


@pytest.fixture
def client(settings: GitHubSettings) -> Iterator[GitHubClient]:
    with GitHubClient(settings) as github_client:
        yield github_client
