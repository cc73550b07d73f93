"""Running one task's agent: a fresh run, or the resumption of a run that stopped for the
user's approval or for a child task, from the message history kept on the task."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.exceptions import ModelAPIError, UsageLimitExceeded
from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.usage import RunUsage
from pydantic_core import to_jsonable_python

from angie.agents.approvals import ApprovalService, approval_metadata, deferred_approvals
from angie.agents.audit import DatabaseRecorder, ToolCallRecord, redact
from angie.agents.limits import RunLimits, TreeUsage
from angie.agents.llm import model_failure
from angie.agents.runner import Delegate, TaskDeps
from angie.agents.streaming import TaskWatcher, text_stream
from angie.agents.trust import taint_task
from angie.db.models import (
    DELEGATIONS,
    ApprovalStatus,
    Task,
    TaskKind,
    TaskStatus,
    ToolCallOutcome,
)
from angie.live import LiveBus
from angie.tasks.service import TERMINAL, ModelUse, TaskService

__all__ = ("Failed", "Finished", "Outcome", "Suspended", "Waiting", "answer_of", "run_agent")


@dataclass(frozen=True, slots=True)
class Finished:
    text: str
    data: Any = None
    # Tool calls made outside an agent run (a /tool command), written with the task's end.
    audit: tuple[ToolCallRecord, ...] = ()
    # The conversation the answer goes to, when the turn found it already (None: it is
    # looked up as the answer is written).
    conversation_id: int | None = None
    # The run's use of the language model, added to the task as it settles (None: none, or
    # added already).
    used: ModelUse | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The task fails for ``error``; the person hears ``told`` if set, else a sentence built
    from the error."""

    error: str
    told: str | None = None
    audit: tuple[ToolCallRecord, ...] = ()
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class Suspended:
    """The run stopped: ``approvals`` are calls for the user to decide (``reasons``, by tool
    call id, say why where it is not the policy), ``children`` tasks (by tool call id) whose
    answers it waits for."""

    state: dict[str, Any]
    approvals: list[ToolCallPart] = field(default_factory=list)
    children: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Waiting:
    """Resumed too early: something it waits for is not decided yet."""


Outcome = Finished | Failed | Suspended | Waiting


def answer_of(child: Task) -> str:
    """A finished child task as its parent's model reads it."""
    if child.status is TaskStatus.SUCCEEDED:
        result = child.result or {}
        return str(result.get("text", "")) if isinstance(result, dict) else str(result)
    if child.status is TaskStatus.CANCELLED:
        return "The user cancelled that request before it finished."
    return f"That could not be done: {child.error or 'it failed'}."


async def run_agent(
    agent: Agent[TaskDeps, Any],
    task: Task,
    *,
    prompt: str | None,
    history: Sequence[ModelMessage] = (),
    tasks: TaskService,
    approvals: ApprovalService,
    delegate: Delegate | None = None,
    live: LiveBus | None = None,
    limits: RunLimits | None = None,
) -> Outcome:
    """Run (or resume) ``task``'s agent; a chat run given the ``live`` bus streams its words.
    A run that reaches one of its ``limits`` stops there and its task fails, saying which; a
    model server that fails raises :class:`~angie.agents.llm.ModelFailed`, saying which."""
    deps = TaskDeps(task=task, delegate=delegate)
    stream = _live_text(agent, task, live)
    # A request's first run has used nothing yet: no earlier run, no task under it.
    if task.parent_id is None and task.attempts <= 1 and not task.state:
        used = TreeUsage()
    else:
        used = TreeUsage(*await tasks.tree_usage(task.id, is_root=task.parent_id is None))
    limits = (limits or RunLimits()).within(used)
    exhausted = limits.exhausted()
    if exhausted is not None:
        return Failed(exhausted, RunLimits.told(exhausted))
    usage = RunUsage()
    state = task.state or {}
    deadline = asyncio.timeout(limits.seconds)
    # A run that ends normally hands its use of the model to the task's settle (the same
    # transaction); a run ended otherwise (an error, a limit) adds it here.
    ended = False
    try:
        if state.get("messages"):
            messages = ModelMessagesTypeAdapter.validate_python(state["messages"])
            results = await _deferred_results(task, state, messages, tasks, approvals, live)
            if results is None:
                return Waiting()
            async with deadline:
                run = await agent.run(
                    message_history=messages,
                    deferred_tool_results=results,
                    deps=deps,
                    event_stream_handler=stream,
                    usage_limits=limits.usage_limits(),
                    usage=usage,
                )
            ended = True
        else:
            async with deadline:
                run = await agent.run(
                    prompt,
                    message_history=list(history) or None,
                    deps=deps,
                    event_stream_handler=stream,
                    usage_limits=limits.usage_limits(),
                    usage=usage,
                )
            ended = True
    except TimeoutError:
        if not deadline.expired():
            raise  # a timeout of something inside the run, not the run's own
        reason = limits.out_of_time()
        return Failed(reason, RunLimits.told(reason))
    except UsageLimitExceeded:
        reason = limits.reached(usage)
        return Failed(reason, RunLimits.told(reason))
    except ModelAPIError as err:
        # Translated here, where the model is known: the person hears which server failed and
        # what to check; the worker retries it when that may help.
        raise model_failure(err, agent.model) from err
    finally:
        if usage.requests and not ended:
            await tasks.add_usage(task.id, _used(usage))
    output = run.output
    if isinstance(output, DeferredToolRequests):
        if usage.requests:  # the task waits: what this run used is kept now
            await tasks.add_usage(task.id, _used(usage))
        children = {
            call.tool_call_id: int(output.metadata.get(call.tool_call_id, {}).get("task_id", 0))
            for call in output.calls
        }
        state = {
            "messages": to_jsonable_python(run.all_messages()),
            "approvals": [c.tool_call_id for c in output.approvals],
            "children": children,
        }
        reasons = {
            call.tool_call_id: str(output.metadata[call.tool_call_id]["reason"])
            for call in output.approvals
            if "reason" in output.metadata.get(call.tool_call_id, {})
        }
        return Suspended(state, list(output.approvals), children, reasons)
    return Finished(str(output), used=_used(usage) if usage.requests else None)


def _used(usage: RunUsage) -> ModelUse:
    return ModelUse(usage.input_tokens, usage.output_tokens, usage.cost)


def _live_text(
    agent: Agent[TaskDeps, Any], task: Task, live: LiveBus | None
) -> EventStreamHandler[TaskDeps] | None:
    """A chat run streams Angie's words to the person's live listeners as she writes them (the
    run and its result are the same); an agent's answer is for Angie, not streamed."""
    if live is None or task.kind is not TaskKind.CHAT:
        return None
    if not isinstance(agent.model, Model) or not _streams(agent.model):
        return None
    return text_stream(live, task.id)


def _streams(model: Model) -> bool:
    """Whether the model answers in a stream; one that cannot is run whole."""
    if isinstance(model, FunctionModel):
        return model.stream_function is not None
    if isinstance(model, WrapperModel):
        return _streams(model.wrapped)
    if isinstance(model, FallbackModel):
        return all(_streams(m) for m in model.models)
    return type(model).request_stream is not Model.request_stream


def _calls(messages: Sequence[ModelMessage]) -> dict[str, ToolCallPart]:
    found: dict[str, ToolCallPart] = {}
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                found[part.tool_call_id] = part
    return found


async def _deferred_results(
    task: Task,
    state: dict[str, Any],
    messages: Sequence[ModelMessage],
    tasks: TaskService,
    approvals: ApprovalService,
    live: LiveBus | None = None,
) -> DeferredToolResults | None:
    decided = await approvals.for_task(task.id)
    wanted = set(state.get("approvals", []))
    if any(a.status is ApprovalStatus.PENDING and a.tool_call_id in wanted for a in decided):
        return None
    answered = [a for a in decided if a.tool_call_id in wanted]
    answers = deferred_approvals(answered, _calls(messages))
    calls: dict[str, Any] = {}
    ended: list[tuple[str, Task | None]] = []
    for call_id, child_id in state.get("children", {}).items():
        child = await tasks.get(int(child_id))
        if child is None:
            calls[call_id] = "That request was lost."
            ended.append((call_id, None))
            continue
        if child.status not in TERMINAL:
            return None
        if child.tainted_by is not None:
            # The child's answer may quote what it read: the parent is tainted from here on.
            await taint_task(tasks.db, task, child.tainted_by)
        calls[call_id] = answer_of(child)
        ended.append((call_id, child))
    await _delegations_ended(task, ended, _calls(messages), tasks, live)
    metadata = {k: v for k, v in approval_metadata(answered).items() if answers.get(k) is True}
    return DeferredToolResults(calls=calls, approvals=answers, metadata=metadata)


async def _delegations_ended(
    task: Task,
    ended: Sequence[tuple[str, Task | None]],
    parts: dict[str, ToolCallPart],
    tasks: TaskService,
    live: LiveBus | None,
) -> None:
    """How the delegations the run waited for ended, in the task's audit trail and its live
    stream (their start was recorded as waiting when the run stopped)."""
    recorder = DatabaseRecorder(tasks.db, task.id)
    watcher = TaskWatcher(live, task.id) if live is not None else None
    for call_id, child in ended:
        part = parts.get(call_id)
        if part is None:
            continue
        ok = child is not None and child.status is TaskStatus.SUCCEEDED
        error = None if ok else answer_of(child) if child is not None else "the request was lost"
        record = ToolCallRecord(
            server=DELEGATIONS,
            tool=part.tool_name,
            arguments=redact(part.args_as_dict()),
            outcome=ToolCallOutcome.OK if ok else ToolCallOutcome.ERROR,
            error=error,
            duration_ms=_took(child),
            tool_call_id=call_id,
        )
        await recorder.record(record)
        if watcher is not None:
            await watcher.called(record)


def _took(child: Task | None) -> int:
    if child is None or child.finished_at is None:
        return 0
    began = child.started_at or child.created_at
    return max(0, round((child.finished_at - began).total_seconds() * 1000))
