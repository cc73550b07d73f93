"""A run's use of the language model lands on its task: with the task's settle when the run
answers, on its own when it stops for an approval, and never lost when the settle fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import floor_lamp_on, one_pending
from fakes.brain import Brain
from test_flows import DONE, Harness, make_angie

from angie.db.engine import Database
from angie.db.models import Task, TaskKind, TaskStatus
from angie.tasks.service import ModelUse, TaskService


def _used(task: Task | None) -> tuple[int | None, int | None, Decimal | None]:
    assert task is not None
    return task.input_tokens, task.output_tokens, task.cost_usd


async def test_a_settle_adds_the_runs_use_to_what_earlier_runs_used(db: Database) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    await tasks.claim(task.id)
    await tasks.add_usage(task.id, ModelUse(100, 10, Decimal("0.5")))  # a run that stopped

    assert await tasks.succeed(task.id, {"text": "ok"}, used=ModelUse(20, 2, Decimal("0.25")))

    settled = await tasks.get(task.id)
    assert settled is not None
    assert settled.status is TaskStatus.SUCCEEDED
    assert _used(settled) == (120, 12, Decimal("0.75"))


async def test_the_use_of_a_run_whose_task_was_cancelled_meanwhile_is_kept(
    db: Database,
) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    await tasks.claim(task.id)
    await tasks.cancel(task.id)

    assert not await tasks.succeed(task.id, {"text": "too late"}, used=ModelUse(30, 3))

    cancelled = await tasks.get(task.id)
    assert cancelled is not None
    assert cancelled.status is TaskStatus.CANCELLED
    assert _used(cancelled) == (30, 3, None)


async def test_the_use_is_kept_when_the_settle_that_was_to_add_it_fails(db: Database) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    await tasks.claim(task.id)

    async def settle_then_fail() -> None:
        used = ModelUse(40, 4)
        async with tasks.usage_kept(task.id, used), db.session() as session:
            await tasks.succeed(task.id, {"text": "ok"}, session=session, used=used)
            raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        await settle_then_fail()

    kept = await tasks.get(task.id)
    assert kept is not None
    assert kept.status is TaskStatus.RUNNING  # the settle rolled back …
    assert _used(kept) == (40, 4, None)  # … its use did not


@pytest.fixture
async def home(sqlite_url: str, data_dir: Path, bridge: FakeHueBridge) -> AsyncIterator[Harness]:
    brain = Brain(plans={"lamp": floor_lamp_on})
    angie = make_angie(sqlite_url, data_dir, bridge, brain, None, approval_ttl=60)
    await angie.start()
    try:
        yield Harness(angie, bridge)
    finally:
        await angie.stop(grace=5)


@pytest.mark.slow
async def test_a_chat_turn_settles_with_its_tokens(home: Harness) -> None:
    user = await home.user()

    task = await home.settled(await home.say(user, "hi"), DONE)

    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert (task.input_tokens or 0) > 0
    assert (task.output_tokens or 0) > 0


@pytest.mark.slow
async def test_runs_stopped_for_an_approval_keep_their_tokens(home: Harness) -> None:
    tasks = home.angie.services.tasks
    user = await home.user()
    task_id = await home.say(user, "hue: turn on the floor lamp")
    waiting = await home.settled(task_id)
    approval = await one_pending(home.angie.services.approvals, user)
    assert waiting.status is TaskStatus.AWAITING_APPROVAL
    [child] = await tasks.children(task_id)
    assert child.id == approval.task_id
    # Angie's run and her hue agent's both stopped: each one's tokens are on its task.
    before = {t.id: _used(t) for t in (waiting, child)}
    for input_tokens, output_tokens, _ in before.values():
        assert (input_tokens or 0) > 0
        assert (output_tokens or 0) > 0

    await home.angie.services.executor.decide(approval.id, approve=True, user_id=user)
    done = await home.settled(task_id, DONE)

    assert done.status is TaskStatus.SUCCEEDED, done.error
    # The resumed runs add theirs, as they settle, to what the stopped runs used.
    for settled in (done, await tasks.get(child.id)):
        input_tokens, output_tokens, _ = _used(settled)
        assert settled is not None
        assert (input_tokens or 0) > (before[settled.id][0] or 0)
        assert (output_tokens or 0) > (before[settled.id][1] or 0)


async def test_a_retried_run_counts_what_its_earlier_attempt_used(db: Database) -> None:
    # A request's first run has used nothing and reads nothing; a later attempt (after a
    # transient failure) reads what the earlier one did, and here the budget is already spent.
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    from angie.agents.approvals import ApprovalService
    from angie.agents.limits import RunLimits
    from angie.agents.runs import Failed, run_agent
    from angie.db.models import ToolCall, ToolCallOutcome

    def never(_messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        raise AssertionError("a run whose request's budget is spent must not start")

    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.AGENT, user_id=None)
    await tasks.claim(task.id)
    async with db.session() as session:
        session.add_all(
            ToolCall(task_id=task.id, server="hue", tool="set_light", outcome=ToolCallOutcome.OK)
            for _ in range(3)
        )
    await tasks.requeue(task.id, error="the bridge did not answer")
    again = await tasks.claim(task.id)
    assert again is not None
    assert again.attempts == 2

    outcome = await run_agent(
        Agent(FunctionModel(never)),
        again,
        prompt="switch the lamp on",
        tasks=tasks,
        approvals=ApprovalService(db, ttl=60, servers=list),
        limits=RunLimits(task_tool_calls=3),
    )

    assert isinstance(outcome, Failed)
    assert "this request as a whole took more than 3 tool calls" in str(outcome)
