"""``angie mcp connect|accounts|disconnect``: the signed-in person's own accounts on personal
servers; a sign-in that fails records nothing, and household servers have no personal accounts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from cli_support import CliHarness, cli_harness
from fakes.brain import Brain
from fakes.mail_servers import MailServers, require_dovecot

from angie.mcp.registry import builtin_specs

pytestmark = pytest.mark.slow


@pytest.fixture
async def cli(sqlite_url: str, data_dir: Path, tmp_path: Path) -> AsyncIterator[CliHarness]:
    # Reached by the API only: no run here needs the servers started.
    specs = {n: replace(s, builtin=False) for n, s in builtin_specs(["gmail", "hue"]).items()}
    async with cli_harness(
        sqlite_url, data_dir, tmp_path / "home", Brain(), specs=specs
    ) as harness:
        yield harness


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    return lines[-1]


async def test_a_failed_sign_in_records_no_account(cli: CliHarness) -> None:
    await cli.signup("ann")

    ran = await cli.run("mcp", "connect", "gmail", "--label", "ann@example.org")

    assert ran.code != 0
    assert "set ANGIE_GMAIL_CLIENT_ID, ANGIE_GMAIL_CLIENT_SECRET first" in ran.err
    assert one_line(ran.err).endswith(
        "the gmail sign-in failed (exit code 2); no account was recorded"
    )
    listed = await cli.run("mcp", "accounts")
    assert "no accounts yet" in listed.out


async def test_a_household_server_cannot_be_connected_per_person(cli: CliHarness) -> None:
    await cli.signup("ann")

    ran = await cli.run("mcp", "connect", "hue")

    assert ran.code != 0
    assert "the hue server is the household's" in one_line(ran.err)


async def test_accounts_lists_and_disconnect_removes_ones_own(cli: CliHarness) -> None:
    ann = await cli.signup("ann")
    async with cli.client(ann) as http:
        made = await http.post(
            "/api/mcp/accounts", json={"server": "gmail", "label": "ann@example.org"}
        )
    assert made.status_code == 201, made.text
    where = cli.angie.settings.data_dir / "mcp" / "accounts" / "gmail" / str(made.json()["id"])

    listed = await cli.run("mcp", "accounts")
    assert "ann@example.org" in listed.out
    assert "yours" in listed.out

    gone = await cli.run("mcp", "disconnect", "gmail")
    assert gone.code == 0, gone.err
    assert "gmail account ann@example.org disconnected" in gone.out
    assert not where.exists()
    again = await cli.run("mcp", "disconnect", "gmail")
    assert "you have no gmail account" in one_line(again.err)


@pytest.fixture
async def mail_cli(
    sqlite_url: str, data_dir: Path, tmp_path: Path
) -> AsyncIterator[tuple[CliHarness, MailServers]]:
    require_dovecot()
    specs = {n: replace(s, builtin=False) for n, s in builtin_specs(["yahoo"]).items()}
    async with (
        MailServers("ann@yahoo.test") as mail,
        cli_harness(sqlite_url, data_dir, tmp_path / "home", Brain(), specs=specs) as harness,
    ):
        yield harness, mail


def _yahoo_reach(mail: MailServers) -> dict[str, str]:
    """Where the mailbox is, and the household's own Yahoo credentials (another mailbox)."""
    return {
        "ANGIE_YAHOO_IMAP_HOST": "127.0.0.1",
        "ANGIE_YAHOO_IMAP_PORT": str(mail.imaps_port),
        "ANGIE_YAHOO_CA_FILE": str(mail.ca_file),
        "ANGIE_YAHOO_ADDRESS": "household@yahoo.test",
        "ANGIE_YAHOO_APP_PASSWORD": "the household's app password",
    }


async def test_connecting_yahoo_checks_and_keeps_the_persons_own_app_password(
    mail_cli: tuple[CliHarness, MailServers],
) -> None:
    cli, mail = mail_cli
    await cli.signup("ann")

    ran = await cli.run(
        "mcp",
        "connect",
        "yahoo",
        input=f"{mail.address}\n{mail.password}\n",
        env=_yahoo_reach(mail),
    )

    assert ran.code == 0, ran.err
    # Checked with her address and app password, not the household's.
    assert f"Signed in: 127.0.0.1 (IMAP) for {mail.address}" in ran.out
    assert "yahoo account yahoo connected" in ran.out
    [account] = await asyncio.to_thread(
        lambda: list((cli.angie.settings.data_dir / "mcp" / "accounts" / "yahoo").iterdir())
    )
    stored = await asyncio.to_thread((account / "tokens.enc").read_bytes)
    assert mail.password.encode() not in stored


async def test_a_yahoo_app_password_the_server_refuses_records_no_account(
    mail_cli: tuple[CliHarness, MailServers],
) -> None:
    cli, mail = mail_cli
    await cli.signup("ann")

    ran = await cli.run(
        "mcp", "connect", "yahoo", input=f"{mail.address}\nwrong\n", env=_yahoo_reach(mail)
    )

    assert ran.code != 0
    assert "Yahoo Mail refused the sign-in" in ran.err
    assert one_line(ran.err).endswith(
        "the yahoo sign-in failed (exit code 1); no account was recorded"
    )
    listed = await cli.run("mcp", "accounts")
    assert "no accounts yet" in listed.out
