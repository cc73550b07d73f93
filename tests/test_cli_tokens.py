"""``angie tokens``: create with scopes (password asked for this one request), list them, revoke
one; bad scope names are refused before anything is asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_support import PASSWORD
from cli_support import CliHarness, cli_harness
from fakes.brain import Brain


@pytest.fixture
async def cli(sqlite_url: str, data_dir: Path, tmp_path: Path) -> AsyncIterator[CliHarness]:
    async with cli_harness(sqlite_url, data_dir, tmp_path / "home", Brain()) as harness:
        yield harness


async def test_create_list_and_revoke_a_scoped_token(cli: CliHarness) -> None:
    sam = await cli.signup("sam")
    made = await cli.run(
        "tokens", "create", "--name", "mcp-angie", "--scope", "crons:write",
        "--scope", "crons:read", "--email", sam.email, "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert made.code == 0, made.err
    token = made.out.strip().splitlines()[-1]
    assert token.startswith("angie_pat_")
    assert "crons:read crons:write" in made.out

    async with cli.client() as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/schedules", headers=headers)).status_code == 200
        assert (await client.get("/api/tasks", headers=headers)).status_code == 403

    listed = await cli.run("tokens", "list")
    assert listed.code == 0, listed.err
    assert "mcp-angie" in listed.out
    assert "crons:read crons:write" in listed.out
    assert token not in listed.out


async def test_a_bad_scope_is_named_before_the_password_is_asked(cli: CliHarness) -> None:
    sam = await cli.signup("sam")
    refused = await cli.run(
        "tokens", "create", "--name", "x", "--scope", "crons:admin", "--email", sam.email,
        "--password-stdin", input="",
    )  # fmt: skip
    assert refused.code == 2
    assert "crons:admin" in refused.err


async def test_a_wrong_password_makes_no_token(cli: CliHarness) -> None:
    sam = await cli.signup("sam")
    refused = await cli.run(
        "tokens", "create", "--name", "x", "--email", sam.email, "--password-stdin",
        input="not-the-password\n",
    )  # fmt: skip
    assert refused.code != 0
    assert "angie_pat_" not in refused.out
