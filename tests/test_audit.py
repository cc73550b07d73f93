"""The audit trail: arguments are redacted, every call through AuditToolset is recorded with its
outcome (ok, error, timeout, awaiting approval, denied), and tool_calls rows hold no secret."""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import pytest
from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset
from sqlalchemy import select

from angie.agents.audit import (
    REDACTED,
    AuditToolset,
    DatabaseRecorder,
    Recorder,
    ToolCallRecord,
    redact,
)
from angie.agents.policy import ApprovalPolicy, Decision, PolicyToolset, ServerPolicy
from angie.db.engine import Database
from angie.db.models import Task, TaskKind, ToolCall, ToolCallOutcome, User
from angie.mcp.toolsets import GuardedToolset

SECRET = "sk-live-0123456789abcdef"


# --- redaction -------------------------------------------------------------------------------


def test_redact_replaces_secret_keys_in_any_case() -> None:
    args = {
        "API_KEY": SECRET,
        "apiKey": SECRET,
        "X-Api-Key": SECRET,
        "Authorization": f"Bearer {SECRET}",
        "refresh_token": SECRET,
        "Password": SECRET,
        "passwd": SECRET,
        "client_secret": SECRET,
        "Set-Cookie": SECRET,
        "private_key": SECRET,
        "credentials": SECRET,
        "room": "kitchen",
        "brightness": 80,
    }
    redacted = redact(args)
    assert {k for k, v in redacted.items() if v != REDACTED} == {"room", "brightness"}
    assert redacted["room"] == "kitchen"
    assert redacted["brightness"] == 80


def test_redact_reaches_nested_dicts_and_lists_of_dicts() -> None:
    args = {
        "request": {"headers": {"Authorization": SECRET, "Accept": "json"}, "path": "/x"},
        "accounts": [{"name": "home", "token": SECRET}, {"name": "work", "Token": SECRET}],
        "tags": ["a", "b"],
    }
    assert redact(args) == {
        "request": {"headers": {"Authorization": REDACTED, "Accept": "json"}, "path": "/x"},
        "accounts": [{"name": "home", "token": REDACTED}, {"name": "work", "Token": REDACTED}],
        "tags": ["a", "b"],
    }


def test_redact_hides_a_secret_subtree_whole() -> None:
    args = {"credentials": {"user": "sam", "pin": "1234"}, "auth": ["x", "y"]}
    assert redact(args) == {"credentials": REDACTED, "auth": REDACTED}


def test_redact_truncates_long_strings_with_a_marker() -> None:
    body = "x" * 1200
    redacted = redact({"body": body, "lines": [body], "short": "y" * 500})
    assert redacted["body"].startswith("x" * 500)
    assert redacted["body"].endswith("[truncated 700 chars]")
    assert len(redacted["body"]) < 540
    assert redacted["lines"][0] == redacted["body"]
    assert redacted["short"] == "y" * 500


def test_redact_never_changes_its_input() -> None:
    args: dict[str, Any] = {"token": SECRET, "nested": {"password": SECRET, "n": ["z" * 900]}}
    before = copy.deepcopy(args)
    redact(args)
    assert args == before


# --- the wrapper -----------------------------------------------------------------------------


class ListRecorder:
    def __init__(self) -> None:
        self.records: list[ToolCallRecord] = []

    async def record(self, call: ToolCallRecord) -> None:
        self.records.append(call)


class Script:
    """A FunctionModel script: call one tool, then answer with whatever came back."""

    def __init__(self, tool: str, args: dict[str, Any]) -> None:
        self.tool = tool
        self.args = args
        self.call_ids: list[str] = []

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        if returns:
            return ModelResponse(parts=[TextPart(f"Result: {returns[-1].content}")])
        part = ToolCallPart(self.tool, self.args)
        self.call_ids.append(part.tool_call_id)
        return ModelResponse(parts=[part])


def vault_server() -> FastMCP:
    server = FastMCP("vault")

    @server.tool(annotations={"readOnlyHint": True})
    def lookup(query: str, api_key: str) -> str:
        """Look something up."""
        return f"found {query}"

    @server.tool(annotations={"readOnlyHint": True})
    def check(token: str) -> str:
        """Check a token."""
        raise ToolError(f"the token {token} was rejected")

    @server.tool(annotations={"destructiveHint": True})
    def rotate(name: str, new_password: str) -> str:
        """Rotate a password."""
        return f"rotated {name}"

    @server.tool(annotations={"readOnlyHint": True})
    async def slow() -> str:
        """Never answers in time."""
        await asyncio.sleep(5)
        return "late"

    return server


def audited(
    recorder: Recorder, policy: ApprovalPolicy | None = None, *, timeout: float = 10.0
) -> AuditToolset[None]:
    client: AbstractToolset[None] = GuardedToolset(
        MCPToolset[None](vault_server(), id="vault"), server="vault", timeout=timeout
    ).prefixed("vault")
    if policy is not None:
        client = PolicyToolset(client, "vault", policy)
    return AuditToolset(client, "vault", recorder)


def agent_for(script: Script) -> Agent[None, str | DeferredToolRequests]:
    return Agent(FunctionModel(script), output_type=[str, DeferredToolRequests])


async def run(
    toolset: AbstractToolset[None], tool: str, args: dict[str, Any]
) -> tuple[Script, str | DeferredToolRequests]:
    script = Script(tool, args)
    agent = agent_for(script)
    result = await agent.run("go", toolsets=[toolset])
    return script, result.output


async def test_successful_call_is_recorded_with_server_tool_and_redacted_arguments() -> None:
    recorder = ListRecorder()
    script, output = await run(
        audited(recorder), "vault_lookup", {"query": "wifi", "api_key": SECRET}
    )

    assert output == "Result: found wifi"
    [record] = recorder.records
    assert record.server == "vault"
    assert record.tool == "lookup"
    assert record.arguments == {"query": "wifi", "api_key": REDACTED}
    assert record.outcome is ToolCallOutcome.OK
    assert record.error is None
    assert record.duration_ms >= 0
    assert record.tool_call_id == script.call_ids[0]


async def test_tool_error_is_recorded_without_the_secret_it_echoes() -> None:
    recorder = ListRecorder()
    _, output = await run(audited(recorder), "vault_check", {"token": SECRET})

    assert isinstance(output, str)
    assert SECRET in output  # the model saw the server's own message, unchanged
    [record] = recorder.records
    assert record.outcome is ToolCallOutcome.ERROR
    assert record.error is not None
    assert "was rejected" in record.error
    assert SECRET not in record.error
    assert record.arguments == {"token": REDACTED}


async def test_silent_server_is_recorded_as_a_timeout() -> None:
    recorder = ListRecorder()
    _, output = await run(audited(recorder, timeout=0.2), "vault_slow", {})

    assert "did not answer" in str(output)
    [record] = recorder.records
    assert record.outcome is ToolCallOutcome.TIMEOUT
    assert 150 <= record.duration_ms < 5000


async def test_call_waiting_for_approval_is_recorded_then_its_approved_run() -> None:
    recorder = ListRecorder()
    policy = ApprovalPolicy([ServerPolicy("vault")])
    script = Script("vault_rotate", {"name": "wifi", "new_password": SECRET})
    agent = agent_for(script)
    first = await agent.run("rotate it", toolsets=[audited(recorder, policy)])
    assert isinstance(first.output, DeferredToolRequests)
    [call] = first.output.approvals

    await agent.run(
        message_history=first.all_messages(),
        toolsets=[audited(recorder, policy)],
        deferred_tool_results=DeferredToolResults(approvals={call.tool_call_id: True}),
    )

    assert [r.outcome for r in recorder.records] == [
        ToolCallOutcome.AWAITING_APPROVAL,
        ToolCallOutcome.OK,
    ]
    assert {r.tool_call_id for r in recorder.records} == {call.tool_call_id}
    assert recorder.records[0].error is None
    assert recorder.records[0].arguments == {"name": "wifi", "new_password": REDACTED}


async def test_forbidden_call_is_recorded_as_denied() -> None:
    recorder = ListRecorder()
    policy = ApprovalPolicy([ServerPolicy("vault", tool_policies={"rotate": Decision.NEVER})])
    client = GuardedToolset(MCPToolset[None](vault_server()), server="vault").prefixed("vault")
    toolset = AuditToolset(
        PolicyToolset(client, "vault", policy, hide_forbidden=False), "vault", recorder
    )
    await run(toolset, "vault_rotate", {"name": "wifi", "new_password": SECRET})

    [record] = recorder.records
    assert record.outcome is ToolCallOutcome.DENIED
    assert record.error is not None
    assert "policy forbids" in record.error


async def test_unexpected_error_is_recorded_and_reraised_unchanged() -> None:
    boom = RuntimeError("the relay is stuck")
    tools = FunctionToolset[None]()

    @tools.tool_plain
    def toggle(relay: int) -> str:
        """Toggle a relay."""
        raise boom

    recorder = ListRecorder()
    with pytest.raises(RuntimeError) as raised:
        await run(
            AuditToolset(tools.prefixed("relay"), "relay", recorder), "relay_toggle", {"relay": 3}
        )

    assert raised.value is boom
    [record] = recorder.records
    assert (record.server, record.tool) == ("relay", "toggle")
    assert record.outcome is ToolCallOutcome.ERROR
    assert record.error == "RuntimeError: the relay is stuck"


# --- the database recorder -------------------------------------------------------------------


async def new_task(db: Database) -> int:
    async with db.session() as s:
        user = User(email="sam@example.com", display_name="Sam")
        s.add(user)
        await s.flush()
        task = Task(kind=TaskKind.AGENT, user_id=user.id)
        s.add(task)
        await s.flush()
        return task.id


async def test_database_recorder_writes_rows_without_secrets(db: Database) -> None:
    task_id = await new_task(db)
    recorder = DatabaseRecorder(db, task_id)
    policy = ApprovalPolicy([ServerPolicy("vault")])

    await run(audited(recorder, policy), "vault_lookup", {"query": "wifi", "api_key": SECRET})
    await run(audited(recorder, policy), "vault_check", {"token": SECRET})
    await run(audited(recorder, policy), "vault_rotate", {"name": "wifi", "new_password": SECRET})

    async with db.session() as s:
        rows = (
            await s.scalars(
                select(ToolCall).where(ToolCall.task_id == task_id).order_by(ToolCall.id)
            )
        ).all()
    assert [(r.server, r.tool, r.outcome) for r in rows] == [
        ("vault", "lookup", ToolCallOutcome.OK),
        ("vault", "check", ToolCallOutcome.ERROR),
        ("vault", "rotate", ToolCallOutcome.AWAITING_APPROVAL),
    ]
    assert rows[0].arguments == {"query": "wifi", "api_key": REDACTED}
    assert rows[1].error is not None
    assert "was rejected" in rows[1].error
    assert all(r.duration_ms is not None and r.duration_ms >= 0 for r in rows)
    for row in rows:
        assert SECRET not in f"{row.arguments} {row.error}"


async def test_recording_failure_is_logged_and_the_call_still_succeeds(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = DatabaseRecorder(db, task_id=424242)  # no such task: the insert fails
    with caplog.at_level(logging.ERROR, logger="angie.agents.audit"):
        _, output = await run(
            audited(recorder), "vault_lookup", {"query": "wifi", "api_key": SECRET}
        )

    assert output == "Result: found wifi"
    [log_record] = caplog.records
    assert "could not record the ok call to vault.lookup of task 424242" in log_record.getMessage()
    async with db.session() as s:
        assert (await s.scalars(select(ToolCall))).all() == []
