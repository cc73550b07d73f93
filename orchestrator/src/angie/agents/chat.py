"""A conversation turn with Angie: the ``/tool`` command, the no-model answer, or her router
agent with the person's memory and USER_PROMPTS; inbound text from outside is fenced as data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelRequest, SystemPromptPart

from angie.agents.approvals import ApprovalService
from angie.agents.audit import DatabaseRecorder, ToolCallRecord
from angie.agents.direct import DirectCaller, DirectCallError
from angie.agents.llm import ModelNotConfigured
from angie.agents.memory import ConversationMemory, Recalled
from angie.agents.planning import plan_tool
from angie.agents.runner import AgentFactory, Delegate
from angie.agents.runs import Failed, Finished, Outcome, run_agent
from angie.agents.trust import fence, taint_task
from angie.db.models import Task
from angie.live import LiveBus
from angie.mcp.registry import tool_prefix
from angie.prompts import UserPromptStore
from angie.tasks.service import TaskService

__all__ = ("ChatTurn", "fence", "parse_tool_command")

# A server as the mcpServers file writes it (``brave-search``) or as Angie names it
# (``brave_search``); a tool as its server names it, dashes included (``.`` ends the server).
_TOOL = re.compile(
    r"^/tool\s+(?P<server>[A-Za-z][A-Za-z0-9_-]*)\.(?P<tool>[A-Za-z0-9_-]+)"
    r"(?:\s+|(?=[{\[])|$)(?P<args>.*)$",
    re.S,
)


def parse_tool_command(text: str) -> tuple[str, str, dict[str, Any]]:
    """``/tool hue.set_light {"light": "Sofa"}`` → (server, tool, arguments); the server by
    Angie's name for it (``brave-search`` → ``brave_search``)."""
    match = _TOOL.match(text.strip())
    server = tool_prefix(match["server"]) if match is not None else None
    if match is None or server is None:
        raise DirectCallError('usage: /tool server.tool {"argument": "value"}')
    raw = match["args"].strip() or "{}"
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError as err:
        raise DirectCallError(
            f"the arguments are not valid JSON: {err.msg} at column {err.colno}"
        ) from err
    if not isinstance(arguments, dict):
        raise DirectCallError("the arguments must be a JSON object")
    return server, match["tool"], arguments


@dataclass
class ChatTurn:
    factory: AgentFactory
    memory: ConversationMemory
    user_prompts: UserPromptStore
    direct: DirectCaller
    tasks: TaskService
    approvals: ApprovalService
    # Where Angie's words go as she writes them, for whoever watches the chat (none: nobody).
    live: LiveBus | None = None

    async def run(self, task: Task, delegate: Delegate) -> Outcome:
        text = str(task.input.get("text", ""))
        resuming = bool((task.state or {}).get("messages"))
        if not resuming and text.lstrip().startswith("/tool"):
            return await self._tool_command(task, text)
        recalled = Recalled()
        if not resuming:
            # The request is kept, and what came before it read, in one transaction; the
            # conversation found there is the turn's until its answer is written.
            recalled = await self.memory.remember_and_recall(task, text)
        try:
            self.factory.model_for(None)
        except ModelNotConfigured as err:
            return Finished(str(err), conversation_id=recalled.conversation_id)
        prompt = text
        if task.input.get("untrusted"):
            prompt = fence(text + _data(task), str(task.input.get("event_type", "outside")))
        looking_at = task.input.get("context")
        if isinstance(looking_at, dict) and looking_at.get("note"):
            if not resuming and looking_at.get("tainted_by"):
                # The note quotes what outside content wrote (a webhook's task, its error).
                await taint_task(self.tasks.db, task, str(looking_at["tainted_by"]))
            # Fenced like any data: a task's words or error must not steer her.
            prompt = (
                f"{fence(str(looking_at['note']), 'the page the person is looking at')}\n\n{prompt}"
            )
        history: list[ModelMessage] = []
        if not resuming:
            summary, history = recalled.summary, recalled.messages
            if recalled.tainted_by is not None:
                # Earlier messages quote outside content: reading them taints this run too.
                await taint_task(self.tasks.db, task, recalled.tainted_by)
            if summary:
                history.insert(
                    0,
                    ModelRequest(
                        parts=[SystemPromptPart(f"Summary of the conversation so far:\n{summary}")]
                    ),
                )
        prompts = await self.user_prompts.for_conversation(task.user_id)
        roster = await self.factory.roster(task.user_id)
        # Planning needs someone to do the steps.
        extra = [plan_tool(roster, self.tasks.db)] if roster.available else []
        agent = await self.factory.for_angie(task, roster, prompts, extra)
        outcome = await run_agent(
            agent,
            task,
            prompt=prompt,
            history=history,
            tasks=self.tasks,
            approvals=self.approvals,
            delegate=delegate,
            live=self.live,
            limits=self.factory.limits,
        )
        if isinstance(outcome, Finished):
            async with self.tasks.usage_kept(task.id, outcome.used):
                await self.memory.fold(task, recalled.conversation_id)
        if isinstance(outcome, Finished | Failed):
            return replace(outcome, conversation_id=recalled.conversation_id)
        return outcome

    async def _tool_command(self, task: Task, text: str) -> Outcome:
        # The call's audit row is written with the task's end, in the same transaction.
        audit: list[ToolCallRecord] = []
        try:
            server, tool, arguments = parse_tool_command(text)
            result = await self.direct.call(task.id, server, tool, arguments, recorded=audit)
        except DirectCallError as err:
            # The task fails for the tool's own words (or the command's mistake); the person
            # reads them as they are.
            return Failed(err.message, told=f"/tool: {err.message}", audit=tuple(audit))
        except BaseException:
            # Ending some other way (a server that went silent, a cancelled task), the call
            # is still on record.
            recorder = DatabaseRecorder(self.tasks.db, task.id)
            for call in audit:
                await recorder.record(call)
            raise
        text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
        return Finished(text, result, audit=tuple(audit))


def _data(task: Task) -> str:
    data = task.input.get("data")
    if data is None:
        return ""
    return "\n" + json.dumps(data, ensure_ascii=False, default=str)[:20_000]
