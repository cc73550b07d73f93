"""`angie-mcp-github auth` against the fake GitHub: the typed personal access token is checked
with `GET /user` before it is kept, and kept, it is the token the server calls GitHub with."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from angie_mcp_github.__main__ import main
from angie_mcp_github.client import GitHubClient
from angie_mcp_github.settings import GitHubSettings
from angie_mcp_github.testing import FakeGitHub

from angie_mcp_core.runner import load_settings


@pytest.fixture
def token_file(fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance that reaches the fake GitHub with no token of its own; its token file."""
    for name in [n for n in os.environ if n.startswith("ANGIE_GITHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANGIE_GITHUB_API_URL", fake_github.base_url)
    monkeypatch.setenv("ANGIE_GITHUB_TOKEN_FILE", str(tmp_path / "tokens.enc"))
    return tmp_path / "tokens.enc"


def _auth(monkeypatch: pytest.MonkeyPatch, typed: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    return main(["auth"])


def test_a_checked_token_is_what_the_server_calls_github_with(
    fake_github: FakeGitHub,
    token_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _auth(monkeypatch, f"{fake_github.token}\n") == 0
    assert "authenticated as octocat" in capsys.readouterr().out
    assert fake_github.token.encode() not in token_file.read_bytes()
    monkeypatch.setenv("ANGIE_GITHUB_API_TOKEN", "ghp_the_households_token_not_this_one")
    settings = load_settings(GitHubSettings)
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == fake_github.token
    with GitHubClient(settings) as github:
        assert "octocat" in github.probe()


def test_a_token_github_refuses_is_not_kept(
    token_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _auth(monkeypatch, "ghp_not_a_token_github_knows\n") == 1
    said = capsys.readouterr().err
    assert "GitHub refused the sign-in" in said
    assert "ghp_not_a_token_github_knows" not in said
    assert not token_file.exists()
    assert load_settings(GitHubSettings).missing() == ["ANGIE_GITHUB_API_TOKEN"]
