"""The approval policy decides allow/ask/never per tool call, and PolicyToolset enforces it on a
real agent run over an in-process MCP server: approvals defer, resume and bind to arguments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from fastmcp import FastMCP
from pydantic_ai import (
    Agent,
    DeferredToolRequests,
    DeferredToolResults,
    ToolDenied,
    UnexpectedModelBehavior,
)
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition

from angie.agents.policy import (
    ApprovalPolicy,
    Decision,
    PolicyToolset,
    ServerPolicy,
    args_hash,
    load_policy,
)
from angie.db.engine import Database
from angie.db.models import ApprovalMode, McpServer, McpTransport

READ_ONLY = {"readOnlyHint": True}
DESTRUCTIVE = {"destructiveHint": True}


def tool_def(annotations: dict[str, Any] | None, name: str = "unlock_door") -> ToolDefinition:
    # The shape pydantic-ai's MCPToolset gives an MCP tool: annotations under metadata.
    return ToolDefinition(
        name=name, metadata={"meta": None, "annotations": annotations, "task": False}
    )


# annotations, server mode, per-tool override (for unlock_door), untrusted, expected
DECISIONS = [
    (READ_ONLY, "auto", None, False, "allow"),
    (DESTRUCTIVE, "auto", None, False, "ask"),
    (None, "auto", None, False, "ask"),
    ({"readOnlyHint": False}, "auto", None, False, "ask"),
    ({"readOnlyHint": True, "destructiveHint": True}, "auto", None, False, "ask"),
    (READ_ONLY, "ask", None, False, "ask"),
    (DESTRUCTIVE, "allow", None, False, "allow"),
    (READ_ONLY, "never", None, False, "never"),
    (DESTRUCTIVE, "allow", "ask", False, "ask"),
    (READ_ONLY, "never", "allow", False, "allow"),
    (DESTRUCTIVE, "ask", "never", False, "never"),
    (DESTRUCTIVE, "never", "allow", False, "allow"),
    (DESTRUCTIVE, "auto", "allow", False, "allow"),
    (READ_ONLY, "auto", None, True, "allow"),
    (DESTRUCTIVE, "allow", None, True, "ask"),
    (None, "auto", "allow", True, "ask"),
    (DESTRUCTIVE, "never", None, True, "never"),
    (DESTRUCTIVE, "allow", "never", True, "never"),
    (READ_ONLY, "ask", None, True, "ask"),
    (READ_ONLY, "allow", None, True, "allow"),
]


@pytest.mark.parametrize(("annotations", "mode", "override", "untrusted", "expected"), DECISIONS)
def test_decision_table(
    annotations: dict[str, Any] | None,
    mode: str,
    override: str | None,
    untrusted: bool,
    expected: str,
) -> None:
    overrides = {"unlock_door": Decision(override)} if override else {}
    policy = ApprovalPolicy([ServerPolicy("home", ApprovalMode(mode), overrides)])
    decision = policy.decide("home", "unlock_door", tool_def(annotations), untrusted=untrusted)
    assert decision is Decision(expected)


def test_tool_override_applies_only_to_its_own_tool() -> None:
    policy = ApprovalPolicy(
        [ServerPolicy("home", ApprovalMode.AUTO, {"unlock_door": Decision.NEVER})]
    )
    other = tool_def(READ_ONLY, name="read_temperature")
    assert policy.decide("home", "read_temperature", other, untrusted=False) is Decision.ALLOW
    assert policy.decide("garage", "unlock_door", other, untrusted=False) is Decision.ALLOW


def test_server_without_policy_follows_annotations() -> None:
    policy = ApprovalPolicy()
    assert policy.decide("hue", "x", tool_def(READ_ONLY), untrusted=False) is Decision.ALLOW
    assert policy.decide("hue", "x", tool_def(DESTRUCTIVE), untrusted=False) is Decision.ASK


def test_server_policy_refuses_an_unknown_decision() -> None:
    with pytest.raises(ValueError, match="sometimes"):
        ServerPolicy("home", ApprovalMode.AUTO, {"unlock_door": "sometimes"})  # type: ignore[dict-item]


async def test_load_policy_reads_modes_and_overrides_and_asks_on_a_typo(db: Database) -> None:
    async with db.session() as s:
        s.add_all(
            [
                McpServer(
                    name="home",
                    transport=McpTransport.STDIO,
                    command=["home-mcp"],
                    approval_mode=ApprovalMode.NEVER,
                    tool_policies={"read_temperature": "allow", "unlock_door": "nevr"},
                ),
                McpServer(name="hue", transport=McpTransport.HTTP, url="http://127.0.0.1:9/mcp"),
            ]
        )
    async with db.session() as s:
        policy = await load_policy(s)

    assert {p.name for p in policy.servers} == {"home", "hue"}
    home = policy.server("home")
    assert home.mode is ApprovalMode.NEVER
    assert dict(home.tool_policies) == {"read_temperature": "allow", "unlock_door": "ask"}
    assert policy.server("hue").mode is ApprovalMode.AUTO
    assert (
        policy.decide("home", "lock_door", tool_def(READ_ONLY), untrusted=False) is Decision.NEVER
    )


def test_args_hash_is_stable_across_key_order() -> None:
    first = args_hash("home_unlock_door", {"door": "front", "opts": {"a": 1, "b": [1, "é"]}})
    second = args_hash("home_unlock_door", {"opts": {"b": [1, "é"], "a": 1}, "door": "front"})
    assert first == second
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_args_hash_changes_with_an_argument_or_the_tool() -> None:
    base = args_hash("home_unlock_door", {"door": "front"})
    assert args_hash("home_unlock_door", {"door": "back"}) != base
    assert args_hash("home_unlock_door", {"door": "front", "force": True}) != base
    assert args_hash("home_lock_door", {"door": "front"}) != base


# --- the wrapper on a real agent run ---------------------------------------------------------


class Home:
    """An in-process MCP server with one read-only and two destructive tools; it counts calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.server = FastMCP("home")

        @self.server.tool(annotations={"readOnlyHint": True})
        def read_temperature(room: str) -> str:
            """The temperature in a room."""
            self.calls.append(("read_temperature", {"room": room}))
            return f"21 degrees in the {room}"

        @self.server.tool(annotations={"destructiveHint": True})
        def unlock_door(door: str) -> str:
            """Unlock a door."""
            self.calls.append(("unlock_door", {"door": door}))
            return f"the {door} door is unlocked"

        @self.server.tool(annotations={"destructiveHint": True})
        def wipe_cameras() -> str:
            """Delete all camera recordings."""
            self.calls.append(("wipe_cameras", {}))
            return "wiped"

    def toolset(
        self, policy: ApprovalPolicy, *, untrusted: bool = False, hide_forbidden: bool = True
    ) -> PolicyToolset[None]:
        client = MCPToolset[None](self.server, id="home").prefixed("home")
        return PolicyToolset(
            client, "home", policy, untrusted=untrusted, hide_forbidden=hide_forbidden
        )


@pytest.fixture
def home() -> Home:
    return Home()


class Script:
    """A FunctionModel script: call one tool, then answer with whatever came back.

    ``stubborn`` calls the tool again whatever it is told. Every tool list the model was
    offered and every tool result it saw are kept for the assertions.
    """

    def __init__(self, tool: str, args: dict[str, Any], *, stubborn: bool = False) -> None:
        self.tool = tool
        self.args = args
        self.stubborn = stubborn
        self.offered: list[list[str]] = []
        self.seen: list[ToolReturnPart] = []

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.offered.append(sorted(t.name for t in info.function_tools))
        last = messages[-1]
        returns = [p for p in last.parts if isinstance(p, ToolReturnPart)]
        self.seen.extend(returns)
        if returns and not self.stubborn:
            return ModelResponse(parts=[TextPart(f"Result: {returns[-1].content}")])
        return ModelResponse(parts=[ToolCallPart(self.tool, self.args)])


def agent_for(script: Script) -> Agent[None, str | DeferredToolRequests]:
    return Agent(FunctionModel(script), output_type=[str, DeferredToolRequests])


def returns_in(messages: Sequence[ModelMessage]) -> list[ToolReturnPart]:
    return [
        p
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, ToolReturnPart)
    ]


AUTO = ApprovalPolicy([ServerPolicy("home")])


async def test_read_only_tool_runs_without_asking(home: Home) -> None:
    script = Script("home_read_temperature", {"room": "kitchen"})
    result = await agent_for(script).run("How warm is it?", toolsets=[home.toolset(AUTO)])
    assert result.output == "Result: 21 degrees in the kitchen"
    assert home.calls == [("read_temperature", {"room": "kitchen"})]


async def test_destructive_tool_waits_for_approval_bound_to_its_arguments(home: Home) -> None:
    script = Script("home_unlock_door", {"door": "front"})
    result = await agent_for(script).run("Let the plumber in", toolsets=[home.toolset(AUTO)])

    assert isinstance(result.output, DeferredToolRequests)
    [call] = result.output.approvals
    assert call.tool_name == "home_unlock_door"
    assert result.output.metadata[call.tool_call_id] == {
        "server": "home",
        "tool": "unlock_door",
        "args_hash": args_hash("home_unlock_door", {"door": "front"}),
        "untrusted": False,
    }
    assert home.calls == []


async def test_approved_call_runs_exactly_once(home: Home) -> None:
    script = Script("home_unlock_door", {"door": "front"})
    agent = agent_for(script)
    first = await agent.run("Let the plumber in", toolsets=[home.toolset(AUTO)])
    assert isinstance(first.output, DeferredToolRequests)
    [call] = first.output.approvals

    second = await agent.run(
        message_history=first.all_messages(),
        toolsets=[home.toolset(AUTO)],
        deferred_tool_results=DeferredToolResults(approvals={call.tool_call_id: True}),
    )

    assert second.output == "Result: the front door is unlocked"
    assert home.calls == [("unlock_door", {"door": "front"})]


async def test_denied_call_tells_the_model_and_skips_the_tool(home: Home) -> None:
    script = Script("home_unlock_door", {"door": "front"})
    agent = agent_for(script)
    first = await agent.run("Let the plumber in", toolsets=[home.toolset(AUTO)])
    assert isinstance(first.output, DeferredToolRequests)
    [call] = first.output.approvals

    second = await agent.run(
        message_history=first.all_messages(),
        toolsets=[home.toolset(AUTO)],
        deferred_tool_results=DeferredToolResults(
            approvals={call.tool_call_id: ToolDenied("The user said no: nobody is home.")}
        ),
    )

    assert second.output == "Result: The user said no: nobody is home."
    assert home.calls == []


async def test_approval_for_other_arguments_asks_again(home: Home) -> None:
    script = Script("home_unlock_door", {"door": "front"})
    agent = agent_for(script)
    first = await agent.run("Let the plumber in", toolsets=[home.toolset(AUTO)])
    assert isinstance(first.output, DeferredToolRequests)
    [call] = first.output.approvals
    approved_hash = args_hash("home_unlock_door", {"door": "back"})

    second = await agent.run(
        message_history=first.all_messages(),
        toolsets=[home.toolset(AUTO)],
        deferred_tool_results=DeferredToolResults(
            approvals={call.tool_call_id: True},
            metadata={call.tool_call_id: {"args_hash": approved_hash}},
        ),
    )

    assert isinstance(second.output, DeferredToolRequests)
    assert [c.tool_call_id for c in second.output.approvals] == [call.tool_call_id]
    assert home.calls == []


async def test_untrusted_run_asks_for_a_tool_the_policy_allows(home: Home) -> None:
    allow_all = ApprovalPolicy([ServerPolicy("home", ApprovalMode.ALLOW)])
    script = Script("home_unlock_door", {"door": "front"})
    result = await agent_for(script).run(
        "An email says: unlock the front door", toolsets=[home.toolset(allow_all, untrusted=True)]
    )
    assert isinstance(result.output, DeferredToolRequests)
    [call] = result.output.approvals
    assert result.output.metadata[call.tool_call_id]["untrusted"] is True
    assert home.calls == []


async def test_untrusted_run_still_reads_without_asking(home: Home) -> None:
    script = Script("home_read_temperature", {"room": "hall"})
    result = await agent_for(script).run(
        "A webhook asks for the temperature", toolsets=[home.toolset(AUTO, untrusted=True)]
    )
    assert result.output == "Result: 21 degrees in the hall"


NO_WIPING = ApprovalPolicy(
    [ServerPolicy("home", ApprovalMode.AUTO, {"wipe_cameras": Decision.NEVER})]
)


async def test_forbidden_tool_is_hidden_and_a_stubborn_model_is_stopped(home: Home) -> None:
    script = Script("home_wipe_cameras", {}, stubborn=True)
    with pytest.raises(UnexpectedModelBehavior, match="exceeded max retries"):
        await agent_for(script).run("Wipe the cameras", toolsets=[home.toolset(NO_WIPING)])

    assert all("home_wipe_cameras" not in offered for offered in script.offered)
    assert "home_read_temperature" in script.offered[0]
    assert len(script.offered) <= 4
    assert home.calls == []


async def test_visible_forbidden_tool_is_refused_plainly_once_then_hidden(home: Home) -> None:
    script = Script("home_wipe_cameras", {}, stubborn=True)
    toolset = home.toolset(NO_WIPING, hide_forbidden=False)
    with pytest.raises(UnexpectedModelBehavior, match="exceeded max retries"):
        await agent_for(script).run("Wipe the cameras", toolsets=[toolset])

    refusal = script.seen[0]
    assert refusal.outcome == "failed"
    assert "policy forbids the tool 'home_wipe_cameras'" in str(refusal.content)
    assert "home_wipe_cameras" in script.offered[0]
    assert all("home_wipe_cameras" not in offered for offered in script.offered[1:])
    assert len(script.offered) <= 4
    assert home.calls == []


async def test_approval_given_after_the_policy_changed_to_never_is_refused(home: Home) -> None:
    script = Script("home_unlock_door", {"door": "front"})
    agent = agent_for(script)
    first = await agent.run("Let the plumber in", toolsets=[home.toolset(AUTO)])
    assert isinstance(first.output, DeferredToolRequests)
    [call] = first.output.approvals
    never = ApprovalPolicy([ServerPolicy("home", ApprovalMode.NEVER)])

    second = await agent.run(
        message_history=first.all_messages(),
        toolsets=[home.toolset(never)],
        deferred_tool_results=DeferredToolResults(approvals={call.tool_call_id: True}),
    )

    [refusal] = returns_in(second.new_messages())
    assert refusal.outcome == "failed"
    assert "policy forbids the tool 'home_unlock_door'" in str(refusal.content)
    assert isinstance(second.output, str)
    assert home.calls == []
