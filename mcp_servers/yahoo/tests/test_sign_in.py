"""`angie-mcp-yahoo auth` against a real IMAP server (Dovecot): the typed address and app password
are checked with a login before they are kept; kept, they are what the server then reads with,
even where the environment names another mailbox."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_yahoo.__main__ import main
from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings
from fakes.mail_servers import MailServers
from fastmcp import Client

from angie_mcp_core.runner import load_settings


@pytest.fixture
def reach(mail: MailServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment of an instance that reaches the test's mail servers but holds no
    credentials of its own; its token file."""
    token_file = tmp_path / "account" / "tokens.enc"
    for name, value in {
        "IMAP_HOST": "127.0.0.1",
        "IMAP_PORT": str(mail.imaps_port),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail.smtp_port),
        "SMTP_TLS": "starttls",
        "CA_FILE": str(mail.ca_file),
        "TOKEN_FILE": str(token_file),
        "DOWNLOAD_DIR": str(tmp_path / "downloads"),
    }.items():
        monkeypatch.setenv(f"ANGIE_YAHOO_{name}", value)
    return token_file


async def _auth(monkeypatch: pytest.MonkeyPatch, typed: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    return await asyncio.to_thread(main, ["auth"])


async def test_a_checked_sign_in_is_what_the_server_reads_with(
    mail: MailServers,
    reach: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _auth(monkeypatch, f"{mail.address}\n{mail.password}\n") == 0
    assert f"Signed in: 127.0.0.1 (IMAP) for {mail.address}" in capsys.readouterr().out
    assert mail.password.encode() not in await asyncio.to_thread(reach.read_bytes)
    # The household's environment names another mailbox; this instance reads the signed-in one.
    monkeypatch.setenv("ANGIE_YAHOO_ADDRESS", "someone.else@yahoo.test")
    monkeypatch.setenv("ANGIE_YAHOO_APP_PASSWORD", "not this one")
    settings = load_settings(YahooSettings)
    assert settings.address == mail.address
    async with Client(build(settings)) as client:
        status = await client.call_tool("status", {})
        assert mail.address in str(status.structured_content)
        folders: Any = (await client.call_tool("list_folders", {})).structured_content
        assert folders


async def test_a_wrong_app_password_is_refused_and_nothing_is_kept(
    mail: MailServers,
    reach: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await _auth(monkeypatch, f"{mail.address}\nnot the app password\n") == 1
    said = capsys.readouterr().err
    assert "Yahoo Mail refused the sign-in" in said
    assert "not the app password" not in said
    assert not await asyncio.to_thread(reach.exists)
    assert load_settings(YahooSettings).missing() == [
        "ANGIE_YAHOO_ADDRESS",
        "ANGIE_YAHOO_APP_PASSWORD",
    ]
