"""Only calls that match the MCP tool's input schema reach the approval policy: an unknown, a
missing or a mistyped argument goes back to the model as a retry naming it, and nobody is asked
to approve a call that could not run. Through the real path: the API, the queue, the agent and
the real Hue MCP server against the fake bridge, with every Hue call set to ask."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import Account, ApiHarness, bridge_puts, hue_api_harness
from fakes.brain import Brain
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolReturnPart
from pydantic_ai.models.function import AgentInfo
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset
from sqlalchemy import func, select, update

from angie.agents.schema import SchemaToolset
from angie.db.models import Approval, ApprovalMode, McpServer, Task, TaskStatus

VALID = {"name": "Floor lamp", "on": True}
DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


class Retries:
    """A Hue agent plan: the call in ``tries`` order, one more after each retry it is sent."""

    def __init__(self, *tries: dict[str, Any]) -> None:
        self.tries = list(tries)
        self.made: list[dict[str, Any]] = []

    def __call__(self, _request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
        if "hue_set_light" not in tools or not self.tries:
            return None
        self.made.append(self.tries.pop(0))
        return "hue_set_light", self.made[-1]


@dataclass
class RetryingBrain(Brain):
    """The scripted brain, but an agent told to retry makes its plan's next call."""

    retries: list[str] = field(default_factory=list)

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        last = messages[-1]
        retried = [
            p for p in last.parts if isinstance(p, ToolReturnPart) and p.outcome == "retried"
        ]
        if retried:
            self.retries += (str(p.content) for p in retried)
            return super()._respond(messages[:-1], info)  # as if asked afresh: the next try
        return super()._respond(messages, info)


@pytest.fixture
def plan() -> Retries:
    return Retries()


@pytest.fixture
async def hue_api(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge, plan: Retries
) -> AsyncIterator[tuple[ApiHarness, RetryingBrain]]:
    brain = RetryingBrain(plans={"lamp": plan})
    async with hue_api_harness(sqlite_url, data_dir, bridge, brain) as harness:
        async with harness.angie.services.database.session() as session:
            await session.execute(
                update(McpServer)
                .where(McpServer.name == "hue")
                .values(approval_mode=ApprovalMode.ASK)
            )
        yield harness, brain


async def ask(api: ApiHarness, who: Account) -> Task:
    sent = await api.client.post(
        "/api/events", json={"instruction": "hue: turn on the floor lamp"}, headers=who.headers
    )
    assert sent.status_code == 202, sent.text
    task_id = sent.json()["task_id"]
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        task = await api.settled(task_id)
        if task.status in DONE or task.status is TaskStatus.AWAITING_APPROVAL:
            return task
        assert asyncio.get_running_loop().time() < deadline, task.status
        await asyncio.sleep(0.05)


async def approvals(api: ApiHarness) -> int:
    async with api.angie.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Approval)) or 0)


@pytest.mark.parametrize(
    ("bogus", "named"),
    [
        ({**VALID, "colour": "red"}, "unknown argument 'colour'"),
        ({"on": True}, "missing required argument 'name'"),
        ({**VALID, "brightness_percent": "very"}, "argument 'brightness_percent'"),
    ],
    ids=["unknown", "missing", "mistyped"],
)
async def test_an_invalid_call_is_retried_and_never_asked_for(
    hue_api: tuple[ApiHarness, RetryingBrain],
    plan: Retries,
    bridge: FakeHueBridge,
    bogus: dict[str, Any],
    named: str,
) -> None:
    api, brain = hue_api
    plan.tries = [bogus]
    sam = await api.signup("sam")

    task = await ask(api, sam)

    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert await approvals(api) == 0
    assert bridge_puts(bridge) == []
    [retry] = brain.retries
    assert named in retry
    assert "'hue_set_light' was not made" in retry


async def test_the_corrected_call_is_the_one_asked_for(
    hue_api: tuple[ApiHarness, RetryingBrain], plan: Retries, bridge: FakeHueBridge
) -> None:
    api, brain = hue_api
    plan.tries = [{**VALID, "colour": "red"}, VALID]
    sam = await api.signup("sam")

    task = await ask(api, sam)

    assert task.status is TaskStatus.AWAITING_APPROVAL, task.error
    pending = (await api.client.get("/api/approvals", headers=sam.headers)).json()
    [approval] = pending["items"]
    assert (approval["tool"], approval["arguments"]) == ("set_light", VALID)
    assert len(brain.retries) == 1
    assert bridge_puts(bridge) == []


async def test_a_tools_own_argument_check_still_runs_after_the_schema() -> None:
    checked: list[dict[str, Any]] = []

    def lamp(name: str) -> str:
        return f"{name} is on"

    def own_check(_ctx: RunContext[None], **args: Any) -> None:
        checked.append(args)
        raise ModelRetry("the lamp is busy")

    tools = FunctionToolset[None]()
    tools.add_function(lamp, args_validator=own_check)
    wrapped = SchemaToolset(tools)
    agent = Agent(TestModel(call_tools=["lamp"]), toolsets=[wrapped], retries=1)
    with pytest.raises(Exception, match="exceeded max retries"):
        await agent.run("on")
    assert checked
