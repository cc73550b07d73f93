"""Fixtures of the Yahoo Mail server's tests: a real Dovecot with Yahoo's folders and an
aiosmtpd submission server (tests/fakes/mail_servers.py), and the server's settings for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings
from fakes.mail_servers import MailServers, require_dovecot
from fastmcp import Client


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ANGIE_YAHOO_* from the developer's shell."""
    for name in ("ADDRESS", "APP_PASSWORD", "WRITES", "TOKEN"):
        monkeypatch.delenv(f"ANGIE_YAHOO_{name}", raising=False)


@pytest.fixture
async def mail() -> AsyncIterator[MailServers]:
    require_dovecot()
    async with MailServers("sam@yahoo.test", folders=True) as servers:
        yield servers


def settings_for(mail: MailServers, tmp_path: Path, **changes: Any) -> YahooSettings:
    values: dict[str, Any] = {
        "address": mail.address,
        "app_password": mail.password,
        "imap_host": "127.0.0.1",
        "imap_port": mail.imaps_port,
        "smtp_host": "127.0.0.1",
        "smtp_port": mail.smtp_port,
        "smtp_tls": "starttls",
        "ca_file": mail.ca_file,
        "writes": True,
        "download_dir": tmp_path / "downloads",
        **changes,
    }
    return YahooSettings(_env_file=None, **values)


@pytest.fixture
async def yahoo(mail: MailServers, tmp_path: Path) -> AsyncIterator[Client[Any]]:
    async with Client(build(settings_for(mail, tmp_path))) as client:
        yield client


MakeSettings = Callable[..., YahooSettings]


@pytest.fixture
def make_settings(mail: MailServers, tmp_path: Path) -> MakeSettings:
    """Settings for the servers, with ``changes``."""
    return lambda **changes: settings_for(mail, tmp_path, **changes)
