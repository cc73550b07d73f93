"""The Home Assistant server's safety tier as Angie's approval policy sees it, through the real
MCPToolset: every call to a lock, alarm or garage door, and every service call, waits for the
user; the server's "always ask" mark reaches the tool definitions the policy reads."""

from __future__ import annotations

from typing import Any

import pytest
from angie_mcp_home_assistant.server import build
from angie_mcp_home_assistant.settings import HomeAssistantSettings
from pydantic_ai import Agent, DeferredToolRequests
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition

from angie.agents.policy import ApprovalPolicy, Decision, PolicyToolset, ServerPolicy
from angie.db.models import ApprovalMode

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("operate_safety_device", {"entity": "Front Door", "action": "unlock"}),
    ("call_service", {"domain": "light", "service": "turn_on", "entity_ids": ["light.kitchen"]}),
]


async def _run(
    tool: str, args: dict[str, Any], policy: ApprovalPolicy | None = None
) -> tuple[Any, list[ToolDefinition]]:
    offered: list[ToolDefinition] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        offered.extend(info.function_tools)
        return ModelResponse(parts=[ToolCallPart(f"home_assistant_{tool}", args)])

    server = build(HomeAssistantSettings(_env_file=None))
    client = MCPToolset[None](server, id="home_assistant").prefixed("home_assistant")
    toolset = PolicyToolset(client, "home_assistant", policy or ApprovalPolicy(), untrusted=False)
    agent: Agent[None, str | DeferredToolRequests] = Agent(
        FunctionModel(model), output_type=[str, DeferredToolRequests]
    )
    result = await agent.run("Please do it.", toolsets=[toolset])
    return result.output, offered


@pytest.mark.parametrize(("tool", "args"), CALLS)
async def test_the_call_waits_for_the_users_approval(tool: str, args: dict[str, Any]) -> None:
    output, _ = await _run(tool, args)

    assert isinstance(output, DeferredToolRequests)
    assert [c.tool_name for c in output.approvals] == [f"home_assistant_{tool}"]


async def test_the_always_ask_mark_reaches_the_policy() -> None:
    _, offered = await _run(*CALLS[0])

    marked = {
        t.name
        for t in offered
        if ((t.metadata or {}).get("meta") or {}).get("angie/approval") == "always"
    }
    assert marked == {"home_assistant_operate_safety_device"}


async def test_a_safety_device_asks_even_where_the_household_allows_everything() -> None:
    allow = ApprovalPolicy(
        [
            ServerPolicy(
                "home_assistant",
                ApprovalMode.ALLOW,
                {"operate_safety_device": Decision.ALLOW},
            )
        ]
    )
    output, _ = await _run(*CALLS[0], policy=allow)

    assert isinstance(output, DeferredToolRequests)
    assert [c.tool_name for c in output.approvals] == ["home_assistant_operate_safety_device"]


async def test_an_ordinary_service_call_follows_an_allow_policy() -> None:
    allow = ApprovalPolicy([ServerPolicy("home_assistant", ApprovalMode.ALLOW)])
    # Not waiting for anyone, the call reaches the server (which has no Home Assistant here).
    with pytest.raises(UnexpectedModelBehavior) as caught:
        await _run(*CALLS[1], policy=allow)

    assert "Home Assistant is not configured" in str(caught.value.__cause__)
