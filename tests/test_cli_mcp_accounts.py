"""``angie mcp connect|accounts|disconnect``: the signed-in person's own accounts on personal
servers; a sign-in that fails records nothing, and household servers have no personal accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from cli_support import CliHarness, cli_harness
from fakes.brain import Brain

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
