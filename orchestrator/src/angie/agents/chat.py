"""A conversation turn with Angie: the ``/tool`` command, the no-model answer, or her router
agent with the person's memory and USER_PROMPTS; inbound text from outside is fenced as data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelRequest, SystemPromptPart

from angie.agents.approvals import ApprovalService
from angie.agents.direct import DirectCaller, DirectCallError
from angie.agents.llm import ModelNotConfigured
from angie.agents.memory import ConversationMemory
from angie.agents.runner import AgentFactory, Delegate
from angie.agents.runs import Finished, Outcome, run_agent
from angie.agents.trust import fence, taint_task
from angie.db.models import Task
from angie.live import LiveBus
from angie.prompts import UserPromptStore
from angie.tasks.service import TaskService

__all__ = ("ChatTurn", "fence", "parse_tool_command")

_TOOL = re.compile(
    r"^/tool\s+(?P<server>[a-z][a-z0-9_]*)\.(?P<tool>[A-Za-z0-9_]+)\s*(?P<args>.*)$", re.S
)


def parse_tool_command(text: str) -> tuple[str, str, dict[str, Any]]:
    """``/tool hue.set_light {"light": "Sofa"}`` → (server, tool, arguments)."""
    match = _TOOL.match(text.strip())
    if match is None:
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
    return match["server"], match["tool"], arguments


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
        if not resuming:
            await self.memory.remember_request(task, text)
        try:
            self.factory.model_for(None)
        except ModelNotConfigured as err:
            return Finished(str(err))
        prompt = text
        if task.input.get("untrusted"):
            prompt = fence(text + _data(task), str(task.input.get("event_type", "outside")))
        history: list[ModelMessage] = []
        if not resuming:
            summary, history, tainted_by = await self.memory.history(task)
            if tainted_by is not None:
                # Earlier messages quote outside content: reading them taints this run too.
                await taint_task(self.tasks.db, task, tainted_by)
            if summary:
                history.insert(
                    0,
                    ModelRequest(
                        parts=[SystemPromptPart(f"Summary of the conversation so far:\n{summary}")]
                    ),
                )
        documents = await self.user_prompts.current(task.user_id) if task.user_id else []
        roster = await self.factory.roster(task.user_id)
        agent = await self.factory.for_angie(task, roster, documents)
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
            await self.memory.fold(task)
        return outcome

    async def _tool_command(self, task: Task, text: str) -> Outcome:
        try:
            server, tool, arguments = parse_tool_command(text)
            result = await self.direct.call(task.id, server, tool, arguments)
        except DirectCallError as err:
            return Finished(f"/tool: {err}")
        return Finished(json.dumps(result, ensure_ascii=False, indent=2, default=str), result)


def _data(task: Task) -> str:
    data = task.input.get("data")
    if data is None:
        return ""
    return "\n" + json.dumps(data, ensure_ascii=False, default=str)[:20_000]
