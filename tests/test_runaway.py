"""A model that keeps calling the same tool is stopped: by the run's limits (model requests,
tool calls, tokens) and by the loop breaker, through a real Angie, the Hue MCP server and
the fake bridge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import bridge_puts, floor_lamp_on, one_pending
from fakes.brain import Brain
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from sqlalchemy import select
from test_flows import DONE, Harness, make_angie

from angie.db.models import ApprovalMode, Task, TaskKind, TaskStatus

pytestmark = [pytest.mark.slow]

LOOPS = 30


@dataclass
class LoopingBrain(Brain):
    """The hue agent, asked to ``loop``, calls set_light again after every answer (up to
    ``left`` times): with the same arguments, or ``varied`` ones."""

    left: int = LOOPS
    varied: bool = True

    def _agent(
        self, request: str, tools: list[str], returns: list[str], messages: list[ModelMessage]
    ) -> ModelResponse:
        if "loop" not in request or self.left == 0:
            return super()._agent(request, tools, returns, messages)
        self.left -= 1
        args: dict[str, Any] = {"name": "Floor lamp", "on": True}
        if self.varied:
            args["brightness_percent"] = 1 + self.left
        self.calls.append(("agent", "hue_set_light"))
        return ModelResponse(parts=[ToolCallPart("hue_set_light", args)])


async def running(
    url: str, data_dir: Path, bridge: FakeHueBridge, brain: Brain, **settings: Any
) -> AsyncIterator[Harness]:
    angie = make_angie(url, data_dir, bridge, brain, None, approval_ttl=60, **settings)
    await angie.start()
    try:
        harness = Harness(angie, bridge)
        await harness.hue_policy(ApprovalMode.ALLOW)
        yield harness
    finally:
        await angie.stop(grace=5)


@pytest.fixture
async def limited(sqlite_url: str, data_dir: Path, bridge: FakeHueBridge) -> AsyncIterator[Harness]:
    async for harness in running(sqlite_url, data_dir, bridge, LoopingBrain(), max_tool_calls=5):
        yield harness


async def test_a_looping_agent_stops_at_the_tool_call_limit(limited: Harness) -> None:
    user = await limited.user()
    task_id = await limited.say(user, "hue: loop the floor lamp")

    task = await limited.settled(task_id, DONE)

    assert len(bridge_puts(limited.bridge)) == 5
    [child] = list(await limited.angie.services.tasks.children(task_id))
    assert child.status is TaskStatus.FAILED
    assert child.error == "this took more than 5 tool calls"
    assert task.status is TaskStatus.SUCCEEDED
    assert "this took more than 5 tool calls" in (task.result or {})["text"]


async def test_an_agent_task_at_its_limit_fails_and_says_so(limited: Harness) -> None:
    from datetime import UTC, datetime

    from angie.db.models import Schedule
    from angie.scheduler import CronFire
    from angie.services import on_cron

    user = await limited.user()
    async with limited.angie.services.database.session() as session:
        schedule = Schedule(
            user_id=user,
            name="disco",
            cron="0 19 * * *",
            agent_id=await limited.agent_id("hue"),
            instruction="loop the floor lamp",
        )
        session.add(schedule)
        await session.flush()
        schedule_id = schedule.id
    at = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
    services = limited.angie.services
    await on_cron(services.database, services.events, CronFire(schedule_id, user, at, at, False))
    async with services.database.session() as session:
        [task] = list(await session.scalars(select(Task).where(Task.user_id == user)))

    task = await limited.settled(task.id, DONE)

    assert task.status is TaskStatus.FAILED
    assert task.error == "this took more than 5 tool calls"
    assert len(bridge_puts(limited.bridge)) == 5
    told = "I stopped: this took more than 5 tool calls; ask again if you want me to go on."
    assert any(r.endswith(told) for r in await limited.replies(user))


async def hue_agent_limits(harness: Harness, limits: dict[str, int]) -> None:
    """Give the hue agent its own per-run limits."""
    from sqlalchemy import update

    from angie.db.models import Agent

    async with harness.angie.services.database.session() as session:
        await session.execute(update(Agent).where(Agent.name == "hue").values(limits=limits))


@dataclass
class FanningBrain(LoopingBrain):
    """Angie, answered by the hue agent, asks it to loop again (``fan`` more times): each
    delegation a run of its own, within the per-run limits."""

    fan: int = 5

    def _angie(self, request: str, tools: list[str], returns: list[str]) -> ModelResponse:
        if returns and self.fan > 0 and "ask_hue" in tools:
            self.fan -= 1
            self.calls.append(("angie", "ask_hue"))
            return ModelResponse(
                parts=[ToolCallPart("ask_hue", {"request": "loop the floor lamp again"})]
            )
        return super()._angie(request, tools, returns)


async def test_delegations_share_one_budget_for_the_whole_request(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    brain = FanningBrain()
    async for harness in running(sqlite_url, data_dir, bridge, brain, max_tool_calls_per_task=7):
        await hue_agent_limits(harness, {"tool_calls": 3})
        user = await harness.user()
        task_id = await harness.say(user, "hue: loop the floor lamp")
        task = await harness.settled(task_id, DONE)
        children = list(await harness.angie.services.tasks.children(task_id))

        # Six delegations at three calls each would be 18; the request stops at seven.
        assert len(bridge_puts(harness.bridge)) == 7
        assert len(children) == 6
        errors = [c.error for c in children]
        assert errors[:2] == ["this took more than 3 tool calls"] * 2
        assert errors[2] == "this request as a whole took more than 7 tool calls"
        assert all(e == errors[2] for e in errors[3:])
        assert task.status is TaskStatus.SUCCEEDED, task.error


async def test_an_agent_sets_its_own_per_run_limit(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    async for harness in running(sqlite_url, data_dir, bridge, LoopingBrain()):
        await hue_agent_limits(harness, {"tool_calls": 2})
        user = await harness.user()
        task_id = await harness.say(user, "hue: loop the floor lamp")
        await harness.settled(task_id, DONE)
        [child] = list(await harness.angie.services.tasks.children(task_id))

        assert child.error == "this took more than 2 tool calls"
        assert len(bridge_puts(harness.bridge)) == 2


@pytest.fixture
async def repeating(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[Harness]:
    async for harness in running(sqlite_url, data_dir, bridge, LoopingBrain(varied=False)):
        yield harness


async def test_the_fourth_identical_call_waits_for_the_person(repeating: Harness) -> None:
    user = await repeating.user()
    task_id = await repeating.say(user, "hue: loop the floor lamp")

    await repeating.settled(task_id)
    approval = await one_pending(repeating.angie.services.approvals, user)

    assert len(bridge_puts(repeating.bridge)) == 3
    assert (approval.server, approval.tool) == ("hue", "set_light")
    assert any(
        "this is the 4th identical call to hue_set_light in this task" in r
        and f"approval {approval.id}" in r
        for r in await repeating.replies(user)
    )

    await repeating.angie.services.executor.decide(approval.id, approve=True, user_id=user)
    deadline = time.monotonic() + 30
    while not (again := await repeating.angie.services.approvals.pending(user)):
        assert time.monotonic() < deadline, "no second approval"
        await asyncio.sleep(0.05)

    assert [a.id for a in again] != [approval.id]
    assert len(bridge_puts(repeating.bridge)) == 4


async def test_varied_calls_are_not_a_loop(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    async for harness in running(sqlite_url, data_dir, bridge, LoopingBrain(left=6)):
        user = await harness.user()
        task = await harness.settled(await harness.say(user, "hue: loop the floor lamp"), DONE)
        assert task.status is TaskStatus.SUCCEEDED, task.error
        assert len(bridge_puts(harness.bridge)) == 6


async def test_a_task_keeps_the_tokens_its_runs_used(limited: Harness) -> None:
    user = await limited.user()
    task_id = await limited.say(user, "hue: loop the floor lamp")
    task = await limited.settled(task_id, DONE)
    [child] = await limited.angie.services.tasks.children(task_id)

    for used in (task, child):
        assert (used.input_tokens or 0) > 0
        assert (used.output_tokens or 0) > 0
        assert used.cost_usd is None  # the scripted model has no price
    # Every request of a run counts: the agent's six requests used more than Angie's two.
    assert (child.output_tokens or 0) > (task.output_tokens or 0)


@pytest.fixture
async def budgeted(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[Harness]:
    brain = LoopingBrain(plans={"lamp": floor_lamp_on}, left=0)
    async for harness in running(sqlite_url, data_dir, bridge, brain, daily_budget_usd=1):
        yield harness


async def test_a_spent_budget_pauses_cron_work_but_not_the_person(budgeted: Harness) -> None:
    from datetime import UTC, datetime

    from angie.db.models import Schedule
    from angie.scheduler import CronFire
    from angie.services import on_cron

    user = await budgeted.user()
    services = budgeted.angie.services
    async with services.database.session() as session:
        session.add(
            Task(kind=TaskKind.CHAT, user_id=user, status=TaskStatus.SUCCEEDED, input={},
                 cost_usd=Decimal("1.5"))
        )  # fmt: skip
        schedule = Schedule(
            user_id=user,
            name="evening",
            cron="0 19 * * *",
            agent_id=await budgeted.agent_id("hue"),
            instruction="turn on the floor lamp",
        )
        session.add(schedule)
        await session.flush()
        schedule_id = schedule.id
    at = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
    await on_cron(services.database, services.events, CronFire(schedule_id, user, at, at, False))
    async with services.database.session() as session:
        cron_task = (
            await session.scalars(
                select(Task).where(Task.user_id == user, Task.event_id.is_not(None))
            )
        ).one()

    task = await budgeted.settled(cron_task.id, DONE)

    assert task.status is TaskStatus.FAILED
    assert task.error == "today's budget is spent"
    assert bridge_puts(budgeted.bridge) == []
    assert any("today's budget of $1.00 is spent" in r for r in await budgeted.replies(user))

    asked = await budgeted.settled(await budgeted.say(user, "hue: turn on the floor lamp"), DONE)
    assert asked.status is TaskStatus.SUCCEEDED, asked.error
    assert len(bridge_puts(budgeted.bridge)) == 1
