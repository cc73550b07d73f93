"""A ``/tool`` command and an agent's tool call say what really happened: a tool's error or a
bad command fails the task with its sentence, a third-party server that crashed or hung is
named with the cause (in the reply, the audit trail and its health), each server may have its
own timeout, and tool names with a dash can be called."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import make_api_angie
from fakes.brain import Brain
from sqlalchemy import select
from test_flows import DONE, Harness

from angie.daemon import Angie
from angie.db.models import (
    Agent,
    ApprovalMode,
    McpServer,
    McpTransport,
    ServerHealth,
    Task,
    TaskStatus,
    ToolCall,
    ToolCallOutcome,
)
from angie.mcp.registry import load_config_file

pytestmark = [pytest.mark.slow]

FLAKY = Path(__file__).parent / "fakes" / "flaky_server.py"


def _call(tool: str) -> Any:
    def plan(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
        return (tool, {}) if tool in tools else None

    return plan


@pytest.fixture
def brain() -> Brain:
    return Brain(plans={"crash": _call("flaky_box_crash"), "hang": _call("flaky_box_hang")})


@pytest.fixture
async def flaky(sqlite_url: str, data_dir: Path, brain: Brain) -> AsyncIterator[Harness]:
    """An Angie whose only server is the flaky one, read from an mcp.json as a person writes it
    (``flaky-box``, with a timeout of its own), and an agent that uses it."""
    config = data_dir / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "flaky-box": {"command": sys.executable, "args": [str(FLAKY)], "timeout": 5},
                    "gone": {"command": sys.executable, "args": ["-c", "raise SystemExit(4)"]},
                }
            }
        )
    )
    specs = load_config_file(config).servers
    angie = make_api_angie(sqlite_url, data_dir, brain, specs=specs, mcp_timeout=20)
    await angie.start()
    try:
        async with angie.services.database.session() as session:
            server = McpServer(
                name="flaky_box",
                transport=McpTransport.STDIO,
                command=[sys.executable, str(FLAKY)],
                approval_mode=ApprovalMode.ALLOW,
            )
            session.add(Agent(name="box", description="The flaky box.", servers=[server]))
        yield Harness(angie, bridge=None)  # type: ignore[arg-type]
    finally:
        await angie.stop(grace=5)


async def _calls(angie: Angie, task_id: int) -> list[ToolCall]:
    async with angie.services.database.session() as session:
        return list(await session.scalars(select(ToolCall).where(ToolCall.task_id == task_id)))


async def _server(angie: Angie) -> McpServer:
    async with angie.services.database.session() as session:
        return (await session.scalars(select(McpServer).where(McpServer.name == "flaky_box"))).one()


async def _tool(h: Harness, user: int, command: str) -> Task:
    return await h.settled(await h.say(user, command), DONE)


async def test_a_tool_error_fails_the_task_with_the_tools_message(flaky: Harness) -> None:
    user = await flaky.user()
    task = await _tool(flaky, user, '/tool flaky_box.refuse {"reason": "no such city"}')
    assert task.status is TaskStatus.FAILED
    assert task.error == "no such city"
    assert any("no such city" in reply for reply in await flaky.replies(user))
    [call] = await _calls(flaky.angie, task.id)
    assert (call.outcome, call.error) == (ToolCallOutcome.ERROR, "no such city")


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("/tool nope.x {}", "no MCP server named 'nope' is enabled (enabled: flaky_box, gone)"),
        ("/tool flaky_box.echo-text {not json", "the arguments are not valid JSON"),
        ("/tool flaky_box.nope {}", "flaky_box has no tool 'nope'"),
        ("/tool flaky_box.echo-text [1]", "the arguments must be a JSON object"),
        ("/tool flaky_box", 'usage: /tool server.tool {"argument": "value"}'),
    ],
)
async def test_a_bad_tool_command_fails_the_task_with_its_sentence(
    flaky: Harness, command: str, said: str
) -> None:
    user = await flaky.user()
    task = await _tool(flaky, user, command)
    assert task.status is TaskStatus.FAILED
    assert (task.error or "").startswith(said), task.error
    assert any(said in reply for reply in await flaky.replies(user))


async def test_a_policy_that_never_allows_the_tool_fails_the_task(flaky: Harness) -> None:
    async with flaky.angie.services.database.session() as session:
        row = (await session.scalars(select(McpServer).where(McpServer.name == "flaky_box"))).one()
        row.tool_policies = {"echo-text": "never"}
    user = await flaky.user()
    task = await _tool(flaky, user, '/tool flaky_box.echo-text {"text": "hi"}')
    assert task.status is TaskStatus.FAILED
    assert task.error == "your policy never allows flaky_box.echo-text"
    [call] = await _calls(flaky.angie, task.id)
    assert call.outcome is ToolCallOutcome.DENIED


@pytest.mark.parametrize("server", ["flaky_box", "flaky-box"])
async def test_a_tool_named_with_a_dash_is_called_on_the_server_as_written(
    flaky: Harness, server: str
) -> None:
    user = await flaky.user()
    task = await _tool(flaky, user, f'/tool {server}.echo-text {{"text": "hi"}}')
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert isinstance(task.result, dict)
    assert task.result["data"] == {"result": "hi"}
    [call] = await _calls(flaky.angie, task.id)
    assert (call.server, call.tool, call.outcome) == ("flaky_box", "echo-text", ToolCallOutcome.OK)


async def test_a_hung_server_is_named_with_its_own_timeout_and_marked_down(
    flaky: Harness,
) -> None:
    user = await flaky.user()
    task = await _tool(flaky, user, "/tool flaky_box.hang {}")
    assert task.status is TaskStatus.FAILED
    said = "the flaky_box server did not answer within 5 s"  # its own, not ANGIE_MCP_TIMEOUT's 20
    assert task.error == said
    assert any(said in reply for reply in await flaky.replies(user))
    [call] = await _calls(flaky.angie, task.id)
    assert (call.outcome, call.error) == (ToolCallOutcome.TIMEOUT, said)
    server = await _server(flaky.angie)
    assert (server.health, server.last_error) == (ServerHealth.UNHEALTHY, said)
    assert server.last_health_at is not None


async def test_a_crashed_server_is_named_and_marked_down_then_healthy_again(
    flaky: Harness,
) -> None:
    user = await flaky.user()
    task = await _tool(flaky, user, "/tool flaky_box.crash {}")
    assert task.status is TaskStatus.FAILED
    said = "the flaky_box server exited during the call"
    assert (task.error or "").startswith(said), task.error
    calls = await _calls(flaky.angie, task.id)
    assert calls
    assert all(c.outcome is ToolCallOutcome.ERROR for c in calls)
    assert all((c.error or "").startswith(said) for c in calls)
    server = await _server(flaky.angie)
    assert server.health is ServerHealth.UNHEALTHY
    assert (server.last_error or "").startswith(said)

    fine = await _tool(flaky, user, '/tool flaky_box.echo-text {"text": "back"}')
    assert fine.status is TaskStatus.SUCCEEDED, fine.error
    server = await _server(flaky.angie)
    assert (server.health, server.last_error) == (ServerHealth.HEALTHY, None)


async def test_a_server_that_cannot_be_started_is_named_and_marked_down(
    flaky: Harness,
) -> None:
    user = await flaky.user()
    task = await _tool(flaky, user, "/tool gone.anything {}")
    said = "the gone server could not be started (it exited before answering)"
    assert (task.status, task.error) == (TaskStatus.FAILED, said)
    async with flaky.angie.services.database.session() as session:
        row = (await session.scalars(select(McpServer).where(McpServer.name == "gone"))).one()
    assert (row.health, row.last_error) == (ServerHealth.UNHEALTHY, said)


async def test_an_agents_call_to_a_hung_server_is_audited_with_the_cause(
    flaky: Harness, brain: Brain
) -> None:
    user = await flaky.user()
    task = await flaky.settled(await flaky.say(user, "box: hang it"), DONE)
    assert ("agent", "flaky_box_hang") in brain.calls
    assert task.status is TaskStatus.SUCCEEDED, task.error
    [child] = await flaky.angie.services.tasks.children(task.id)
    [call] = await _calls(flaky.angie, child.id)
    said = "the flaky_box server did not answer within 5 s"
    assert (call.outcome, call.error) == (ToolCallOutcome.TIMEOUT, said)
    server = await _server(flaky.angie)
    assert (server.health, server.last_error) == (ServerHealth.UNHEALTHY, said)


async def test_an_agents_call_to_a_crashed_server_is_audited_with_the_cause(
    flaky: Harness, brain: Brain
) -> None:
    user = await flaky.user()
    task = await flaky.settled(await flaky.say(user, "box: crash it"))
    assert ("agent", "flaky_box_crash") in brain.calls
    said = "the flaky_box server exited during a call"
    [child] = await flaky.angie.services.tasks.children(task.id)
    first = (await _calls(flaky.angie, child.id))[0]
    assert (first.outcome, first.error) == (ToolCallOutcome.ERROR, said)
    # The call that may have acted is asked about, not made again unasked.
    assert task.status is TaskStatus.AWAITING_APPROVAL


@pytest.mark.parametrize("timeout", [0, -1, 3601, "30", True, None])
def test_a_bad_timeout_skips_its_entry_with_a_reason(tmp_path: Path, timeout: Any) -> None:
    config = tmp_path / "mcp.json"
    entry = {"command": "uvx", "args": ["mcp-weather"], "timeout": timeout}
    good = {"command": "uvx", "args": ["mcp-clock"], "timeout": 90.5}
    config.write_text(json.dumps({"mcpServers": {"weather": entry, "clock": good}}))
    loaded = load_config_file(config, environ={})
    assert loaded.servers["clock"].timeout == 90.5
    if timeout is None:  # null is no timeout of its own: ANGIE_MCP_TIMEOUT
        assert loaded.servers["weather"].timeout is None
        return
    assert "weather" not in loaded.servers
    [skipped] = loaded.skipped
    assert skipped.reason == (
        f"{config}: mcpServers.weather.timeout: {timeout!r} must be a number of seconds above 0 "
        "and at most 3600"
    )
