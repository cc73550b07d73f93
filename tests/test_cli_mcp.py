"""`angie mcp` goes through the running Angie with the signed-in person's rights: a direct call is
audited and held to the household's policy like ``/tool`` in chat, switching a server on or off
is an admin's, and nothing acts without Angie. `check` and `serve` stay on this machine."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from cli_support import ANGIE, CliHarness, Run, cli_harness
from fakes.brain import Brain
from sqlalchemy import select

from angie.db.models import McpServer, Task, ToolCall, ToolCallOutcome
from angie.mcp.registry import ServerSpec, builtin_specs
from angie_mcp_core.testing import free_port

SAMPLE = (
    Path(__file__).resolve().parents[1] / "mcp_servers" / "_core" / "tests" / "sample_server.py"
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def cli(
    sqlite_url: str, data_dir: Path, tmp_path: Path, bridge: FakeHueBridge
) -> AsyncIterator[CliHarness]:
    specs = {
        **builtin_specs(["hue"]),
        "sample": ServerSpec(
            name="sample",
            transport="stdio",
            command=(sys.executable, str(SAMPLE)),
            source="mcp.json",
        ),
    }
    environ = {
        "ANGIE_HUE_BRIDGE_HOST": bridge.host,
        "ANGIE_HUE_USERNAME": bridge.username,
        "ANGIE_SAMPLE_API_KEY": "k",
    }
    async with cli_harness(
        sqlite_url, data_dir, tmp_path / "home", Brain(), specs=specs, environ=environ
    ) as harness:
        yield harness


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


async def _calls(cli: CliHarness) -> list[ToolCall]:
    async with cli.angie.services.database.session() as session:
        return list(await session.scalars(select(ToolCall).order_by(ToolCall.id)))


async def _enabled(cli: CliHarness, name: str) -> bool | None:
    async with cli.angie.services.database.session() as session:
        return await session.scalar(select(McpServer.enabled).where(McpServer.name == name))


async def test_a_call_goes_through_angie_and_is_audited_in_the_persons_task(
    cli: CliHarness,
) -> None:
    sam = await cli.signup()
    done = await cli.run("mcp", "call", "sample", "brightness", "--args", '{"room": "Kitchen"}')
    assert done.code == 0, done.err
    assert json.loads(done.out) == {"result": 40}
    # The prefixed name and the name as written in an mcpServers file work too.
    again = await cli.run("mcp", "call", "Sample", "sample_brightness", "--args", '{"room": "x"}')
    assert again.code == 1
    assert one_error_line(again.err) == (
        "error: sample.brightness: No room named 'x'. Known rooms: 'kitchen', 'living room'."
    )
    calls = await _calls(cli)
    assert [(c.server, c.tool, c.arguments) for c in calls] == [
        ("sample", "brightness", {"room": "Kitchen"}),
        ("sample", "brightness", {"room": "x"}),
    ]
    assert calls[0].outcome is ToolCallOutcome.OK
    async with cli.angie.services.database.session() as session:
        task = await session.get(Task, calls[0].task_id)
    assert task is not None
    assert task.user_id == sam.id


async def test_the_policys_never_holds_for_a_call_from_the_cli(
    cli: CliHarness, bridge: FakeHueBridge
) -> None:
    person = await cli.signup()
    async with cli.client(person) as http:
        set_policy = await http.patch(
            "/api/mcp/servers/hue", json={"tool_policies": {"set_room": "never"}}
        )
    assert set_policy.status_code == 200, set_policy.text
    before = json.dumps(bridge.lights, sort_keys=True)

    refused = await cli.run(
        "mcp", "call", "hue", "set_room", "--args", '{"name": "Kitchen", "on": true}'
    )

    assert refused.code == 1
    assert "your policy never allows hue.set_room" in one_error_line(refused.err)
    assert json.dumps(bridge.lights, sort_keys=True) == before
    assert [(c.tool, c.outcome) for c in await _calls(cli)] == [
        ("set_room", ToolCallOutcome.DENIED)
    ]


async def test_nothing_is_called_without_signing_in(cli: CliHarness, bridge: FakeHueBridge) -> None:
    before = json.dumps(bridge.lights, sort_keys=True)
    refused = await cli.run(
        "mcp", "call", "hue", "set_room", "--args", '{"name": "Kitchen", "on": true}'
    )
    assert refused.code == 1
    assert "you are not logged in" in one_error_line(refused.err)
    assert json.dumps(bridge.lights, sort_keys=True) == before
    assert await _calls(cli) == []


async def test_a_member_cannot_switch_a_server_off(cli: CliHarness) -> None:
    await cli.signup("sam")  # the admin
    await cli.signup("lee")  # a member, now the saved login
    refused = await cli.run("mcp", "disable", "hue")
    assert refused.code == 1
    assert "admin" in one_error_line(refused.err)
    assert await _enabled(cli, "hue") is True


async def test_an_admin_switches_a_server_off_and_on(cli: CliHarness) -> None:
    await cli.signup()
    off = await cli.run("mcp", "disable", "sample")
    assert off.code == 0, off.err
    assert "sample is disabled (from Angie's next start)" in off.out
    assert await _enabled(cli, "sample") is False
    listed = await cli.run("mcp", "list")
    assert "disabled" in _row(listed.out, "sample")
    on = await cli.run("mcp", "enable", "sample")
    assert on.code == 0, on.err
    assert await _enabled(cli, "sample") is True
    unknown = await cli.run("mcp", "disable", "nope")
    assert unknown.code == 1
    assert "no MCP server named 'nope' (known: " in one_error_line(unknown.err)


async def test_list_and_tools_show_what_angie_runs(cli: CliHarness) -> None:
    await cli.signup()
    listed = await cli.run("mcp", "list")
    assert listed.code == 0, listed.err
    assert "untrusted" in _row(listed.out, "sample")
    assert "added (stdio)" in _row(listed.out, "sample")
    assert "not installed here" in _row(listed.out, "gmail")  # seeded, its package absent
    tools = await cli.run("mcp", "tools", "sample")
    assert tools.code == 0, tools.err
    brightness = _row(tools.out, "sample_brightness")
    assert "read-only" in brightness
    assert "allow" in brightness
    assert "changes things" in _row((await cli.run("mcp", "tools", "hue")).out, "hue_set_room")


async def test_without_a_running_angie_the_cli_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    home = tmp_path / "home"
    home.mkdir()
    for args in (("call", "hue", "list_lights"), ("disable", "hue"), ("list",)):
        done = await _alone(home, url, "mcp", *args)
        assert done.code == 1
        assert one_error_line(done.err) == (
            f"error: Angie is not running at {url} (start her with `angie serve`)"
        )


async def test_bad_arguments_are_refused_before_anything_is_asked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens: the check comes first
    bad = await _alone(home, url, "mcp", "call", "hue", "set_room", "--args", "{room: 1}")
    assert bad.code == 2
    assert "--args is not valid JSON" in one_error_line(bad.err)
    listed = await _alone(home, url, "mcp", "call", "hue", "set_room", "--args", "[1]")
    assert listed.code == 2
    assert "--args must be a JSON object" in one_error_line(listed.err)


async def test_check_reads_the_file_here_and_names_what_it_skips(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {"mcpServers": {"Sample-Lamp": {"command": "python3"}, "9lives": {"command": "x"}}}
        )
    )
    done = await _alone(home, "http://127.0.0.1:1", "mcp", "check", str(config))
    assert done.code == 1
    assert "(read here, not by the running Angie)" in done.out
    assert "✓ sample_lamp:" in done.out
    assert "skipped 9lives:" in done.out
    missing = await _alone(home, "http://127.0.0.1:1", "mcp", "check", str(tmp_path / "no.json"))
    assert missing.code == 2
    assert "there is no mcpServers file at" in one_error_line(missing.err)


async def test_serve_refuses_a_server_that_is_not_angies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"sample": {"command": "python3"}}}))
    done = await _alone(home, "http://127.0.0.1:1", "mcp", "serve", "sample", mcp_config=config)
    assert done.code == 1
    assert "sample is not one of Angie's servers" in one_error_line(done.err)


def _row(out: str, name: str) -> str:
    """The table row whose first cell is ``name``."""
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip(" │┃").split("│")]
        if cells and cells[0] == name:
            return line
    raise AssertionError(f"no row {name!r} in:\n{out}")


async def _alone(home: Path, url: str, *args: str, mcp_config: Path | None = None) -> Run:
    """``angie ARGS`` with no Angie behind ``url`` and nobody signed in."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ANGIE_URL": url,
        "ANGIE_CLI_CONFIG": str(home / "cli.json"),
        "ANGIE_DATA_DIR": str(home / "data"),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    if mcp_config is not None:
        env["ANGIE_MCP_CONFIG"] = str(mcp_config)
    done = await asyncio.to_thread(
        subprocess.run,
        [str(ANGIE), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=50,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)
