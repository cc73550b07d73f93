"""The effects journal on a real agent run over an in-process MCP server: a side-effecting call
is journaled pending before it goes out and done after; a redelivered task answers a done call
from the journal, makes a pending idempotent call again, and asks the person before making a
pending call that is not idempotent again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastmcp import FastMCP
from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults, ToolDenied
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

from angie.agents.approvals import ApprovalService, approval_metadata
from angie.agents.journal import RESTARTED, EffectJournal, JournalToolset
from angie.agents.policy import ApprovalPolicy, PolicyToolset, ServerPolicy, args_hash
from angie.agents.runs import Finished, Suspended, run_agent
from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import (
    ApprovalMode,
    ApprovalStatus,
    EffectState,
    Task,
    TaskEffect,
    TaskKind,
    TaskStatus,
)
from angie.tasks.service import TaskService

BELL = {"times": 2}
LEVEL = {"percent": 40}


class Home:
    """A ``ring_bell`` that is not idempotent, a ``set_level`` its server declares idempotent
    and a read; it counts what reached it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.server = FastMCP("home")

        @self.server.tool(annotations={"readOnlyHint": False, "destructiveHint": False})
        def ring_bell(times: int) -> str:
            """Ring the door bell."""
            self.calls.append("ring_bell")
            return f"rang {times} times"

        @self.server.tool(
            annotations={"readOnlyHint": False, "destructiveHint": False, "idempotentHint": True}
        )
        def set_level(percent: int) -> str:
            """Set the blinds to an absolute level."""
            self.calls.append("set_level")
            return f"blinds at {percent} %"

        @self.server.tool
        def fail_loudly() -> str:
            """Always fails."""
            self.calls.append("fail_loudly")
            raise ValueError("the bell is broken")


def script(tool: str, args: dict[str, Any]) -> FunctionModel:
    """Call ``tool`` once, then say what came back."""

    def respond(messages: list[ModelMessage], _info: AgentInfo) -> ModelResponse:
        returns = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        if returns:
            return ModelResponse(parts=[TextPart(f"Result: {returns[-1].content}")])
        return ModelResponse(parts=[ToolCallPart(tool, args)])

    return FunctionModel(respond)


@pytest.fixture
def home() -> Home:
    return Home()


@pytest.fixture
async def task_id(db: Database) -> int:
    async with db.session() as session:
        task = Task(kind=TaskKind.AGENT, status=TaskStatus.RUNNING, input={})
        session.add(task)
        await session.flush()
        return task.id


def agent(
    home: Home, db: Database, task_id: int, tool: str, args: dict[str, Any]
) -> tuple[Agent[None, str | DeferredToolRequests], EffectJournal]:
    journal = EffectJournal(db, task_id)
    policy = ApprovalPolicy([ServerPolicy("home", ApprovalMode.ALLOW)])
    client = MCPToolset[None](home.server, id="home").prefixed("home")
    toolset = JournalToolset(PolicyToolset(client, "home", policy), journal=journal)
    model = script(tool, args)
    return Agent(model, output_type=[str, DeferredToolRequests], toolsets=[toolset]), journal


async def effects(db: Database) -> list[TaskEffect]:
    async with db.session() as session:
        return list(await session.scalars(select(TaskEffect).order_by(TaskEffect.id)))


async def died_during(db: Database, task_id: int, tool: str, args: dict[str, Any]) -> None:
    """The journal as Angie left it when killed while the call was out."""
    journal = EffectJournal(db, task_id)
    assert await journal.begin((tool, args_hash(tool, args), 0)) is True


async def test_a_call_is_pending_while_out_and_done_with_its_result(
    home: Home, db: Database, task_id: int
) -> None:
    seen: list[list[tuple[str, str]]] = []
    original = home.server

    @original.tool(annotations={"readOnlyHint": False, "destructiveHint": False})
    async def look_at_journal() -> str:
        """Reports the journal while the call is out."""
        seen.append([(e.tool, e.state) for e in await effects(db)])
        return "looked"

    run, _ = agent(home, db, task_id, "home_look_at_journal", {})
    result = await run.run("look")

    assert result.output == "Result: looked"
    assert seen == [[("home_look_at_journal", EffectState.PENDING)]]
    [effect] = await effects(db)
    assert (effect.state, effect.result) == (EffectState.DONE, "looked")
    assert effect.started_at is not None


async def test_a_done_call_is_answered_from_the_journal(
    home: Home, db: Database, task_id: int
) -> None:
    first, _ = agent(home, db, task_id, "home_ring_bell", BELL)
    await first.run("ring")
    again, _ = agent(home, db, task_id, "home_ring_bell", BELL)

    result = await again.run("ring")

    assert result.output == "Result: rang 2 times"
    assert home.calls == ["ring_bell"]


async def test_a_call_that_fails_in_front_of_us_leaves_no_intent(
    home: Home, db: Database, task_id: int
) -> None:
    run, _ = agent(home, db, task_id, "home_fail_loudly", {})
    await run.run("fail")

    assert home.calls[:1] == ["fail_loudly"]
    assert await effects(db) == []


async def test_a_call_waiting_for_approval_leaves_no_intent(
    home: Home, db: Database, task_id: int
) -> None:
    journal = EffectJournal(db, task_id)
    client = MCPToolset[None](home.server, id="home").prefixed("home")
    asking = ApprovalPolicy([ServerPolicy("home", ApprovalMode.ASK)])
    toolset = JournalToolset(PolicyToolset(client, "home", asking), journal=journal)
    run = Agent(
        script("home_ring_bell", BELL), output_type=[str, DeferredToolRequests], toolsets=[toolset]
    )

    result = await run.run("ring")

    assert isinstance(result.output, DeferredToolRequests)
    assert await effects(db) == []


async def test_a_pending_idempotent_call_is_made_again_and_done(
    home: Home, db: Database, task_id: int
) -> None:
    await died_during(db, task_id, "home_set_level", LEVEL)
    run, _ = agent(home, db, task_id, "home_set_level", LEVEL)

    result = await run.run("blinds")

    assert result.output == "Result: blinds at 40 %"
    assert home.calls == ["set_level"]
    [effect] = await effects(db)
    assert (effect.state, effect.result) == (EffectState.DONE, "blinds at 40 %")


async def test_a_pending_call_that_is_not_idempotent_asks_the_person(
    home: Home, db: Database, task_id: int
) -> None:
    await died_during(db, task_id, "home_ring_bell", BELL)
    run, _ = agent(home, db, task_id, "home_ring_bell", BELL)

    result = await run.run("ring")

    assert isinstance(result.output, DeferredToolRequests)
    [call] = result.output.approvals
    assert result.output.metadata[call.tool_call_id] == {
        "args_hash": args_hash("home_ring_bell", BELL),
        "reason": RESTARTED,
        "restarted": True,
    }
    assert home.calls == []
    [effect] = await effects(db)
    assert effect.state == EffectState.PENDING


async def resumed(
    home: Home, db: Database, task_id: int, answer: bool | ToolDenied, decided_at: str | None
) -> Any:
    await died_during(db, task_id, "home_ring_bell", BELL)
    run, _ = agent(home, db, task_id, "home_ring_bell", BELL)
    stopped = await run.run("ring")
    assert isinstance(stopped.output, DeferredToolRequests)
    [call] = stopped.output.approvals
    results = DeferredToolResults(
        approvals={call.tool_call_id: answer},
        metadata={call.tool_call_id: {"decided_at": decided_at}} if decided_at else {},
    )
    again, _ = agent(home, db, task_id, "home_ring_bell", BELL)
    return await again.run(message_history=stopped.all_messages(), deferred_tool_results=results)


async def test_an_approved_repeat_is_made_and_journaled_done(
    home: Home, db: Database, task_id: int
) -> None:
    result = await resumed(home, db, task_id, True, (utcnow() + timedelta(seconds=1)).isoformat())

    assert result.output == "Result: rang 2 times"
    assert home.calls == ["ring_bell"]
    [effect] = await effects(db)
    assert (effect.state, effect.result) == (EffectState.DONE, "rang 2 times")


async def test_a_denied_repeat_is_not_made(home: Home, db: Database, task_id: int) -> None:
    result = await resumed(home, db, task_id, ToolDenied("The user declined this call."), None)

    assert result.output == "Result: The user declined this call."
    assert home.calls == []


async def test_an_approval_given_before_the_call_went_out_does_not_cover_a_repeat(
    home: Home, db: Database, task_id: int
) -> None:
    # Approved by the policy's question, then Angie died with the call out: ask again.
    result = await resumed(home, db, task_id, True, (utcnow() - timedelta(hours=1)).isoformat())

    assert isinstance(result.output, DeferredToolRequests)
    assert home.calls == []


async def test_an_approved_call_asked_again_is_pending_again(db: Database, task_id: int) -> None:
    service = ApprovalService(db, ttl=60, servers=lambda: ["home"])
    async with db.session() as session:
        task = await session.get(Task, task_id)
    assert task is not None
    call = ToolCallPart("home_ring_bell", BELL, tool_call_id="call-1")
    [approval] = await service.request(task, [call])
    decided = await service.decide(approval.id, approve=True, user_id=None)
    assert approval_metadata([decided])["call-1"]["decided_at"] is not None

    [again] = await service.request(task, [call])

    assert again.id == approval.id
    assert again.status is ApprovalStatus.PENDING
    assert again.decided_at is None
    assert approval_metadata([again]) == {}


async def test_a_call_approved_then_cut_off_by_a_restart_is_asked_about_again(
    home: Home, db: Database, task_id: int
) -> None:
    """The policy asked, the person approved, the call went out and Angie died: the resumed
    run asks again, saying why, and makes the call once the person approves again."""
    tasks = TaskService(db)
    approvals = ApprovalService(db, ttl=60, servers=lambda: ["home"])
    asking = ApprovalPolicy([ServerPolicy("home", ApprovalMode.ASK)])

    def build() -> Agent[Any, Any]:
        client = MCPToolset[Any](home.server, id="home").prefixed("home")
        toolset = JournalToolset(
            PolicyToolset(client, "home", asking), journal=EffectJournal(db, task_id)
        )
        return Agent(
            script("home_ring_bell", BELL),
            output_type=[str, DeferredToolRequests],
            toolsets=[toolset],
        )

    async def run() -> Any:
        task = await tasks.require(task_id)
        outcome = await run_agent(build(), task, prompt="ring", tasks=tasks, approvals=approvals)
        if isinstance(outcome, Suspended):
            await tasks.suspend(task_id, outcome.state)
            await approvals.request(task, outcome.approvals)
        return outcome

    assert isinstance(await run(), Suspended)  # the policy asks
    [approval] = await approvals.pending()
    await approvals.decide(approval.id, approve=True, user_id=None)
    await died_during(db, task_id, "home_ring_bell", BELL)  # out, then Angie died

    again = await run()

    assert isinstance(again, Suspended)
    assert list(again.reasons.values()) == [RESTARTED]
    assert [a.id for a in await approvals.pending()] == [approval.id]
    assert home.calls == []

    await approvals.decide(approval.id, approve=True, user_id=None)
    done = await run()

    assert isinstance(done, Finished)
    assert home.calls == ["ring_bell"]
    [effect] = await effects(db)
    assert effect.state == EffectState.DONE
