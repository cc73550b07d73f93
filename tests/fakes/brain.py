"""A scripted stand-in for the language model (pydantic-ai ``FunctionModel``) that plays both
Angie and her agents, so a whole request walks through real queues, databases and MCP servers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

__all__ = ("Answer", "Brain", "FollowUp", "Plan", "StreamingBrain")

# An agent's script: (its request, its tool names) → a tool call to make, or None to answer.
Plan = Callable[[str, list[str]], tuple[str, dict[str, Any]] | None]
# The next step once a call came back: (request, tool names, what came back) → a call or None.
FollowUp = Callable[[str, list[str], list[str]], tuple[str, dict[str, Any]] | None]
# An agent's last words once it makes no more calls: (request, every return of the run) → text.
Answer = Callable[[str, list[str]], str]


def _request_text(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _returns(messages: list[ModelMessage]) -> list[str]:
    last = messages[-1]
    if not isinstance(last, ModelRequest):
        return []
    return _returned(last)


def _returned(request: ModelRequest) -> list[str]:
    found = []
    for part in request.parts:
        if isinstance(part, ToolReturnPart):
            content = part.content
            found.append(content if isinstance(content, str) else json.dumps(content, default=str))
        elif isinstance(part, RetryPromptPart):
            found.append(f"retry: {part.model_response()}")
    return found


def _all_returns(messages: list[ModelMessage]) -> list[str]:
    return [r for m in messages if isinstance(m, ModelRequest) for r in _returned(m)]


@dataclass
class Brain:
    """Angie delegates by the first word of the request (``hue: turn on …`` → ``ask_hue``);
    agents follow ``plans`` keyed by a word in their request; summaries are one line."""

    plans: dict[str, Plan] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)
    # word → how many more times a request with it fails before it works.
    flaky: dict[str, int] = field(default_factory=dict)
    # word → the make_plan arguments Angie proposes for a request with it.
    angie_plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    # word → an agent's next step after a call of a request with it came back (several steps).
    followups: dict[str, FollowUp] = field(default_factory=dict)
    # word → an agent's answer once it makes no more calls (instead of "done: <last return>").
    answers: dict[str, Answer] = field(default_factory=dict)

    def model(self, _name: str | None = None) -> Model:
        return FunctionModel(self._respond, model_name="brain")

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        tools = [t.name for t in info.function_tools]
        request = _request_text(messages)
        if "Summarise this conversation" in (info.instructions or ""):
            return ModelResponse(parts=[TextPart(f"summary of {len(request)} chars")])
        for word in self.fail_on:
            if word in request:
                raise RuntimeError(f"the brain refuses {word!r}")
        for word, left in self.flaky.items():
            if word in request and left > 0:
                self.flaky[word] = left - 1
                raise RuntimeError(f"the brain stumbles on {word!r}")
        returns = _returns(messages)
        if any(t.startswith("ask_") for t in tools):
            return self._angie(request, tools, returns)
        return self._agent(request, tools, returns, messages)

    def _angie(self, request: str, tools: list[str], returns: list[str]) -> ModelResponse:
        if returns:
            return ModelResponse(parts=[TextPart(f"Angie: {returns[-1]}")])
        for word, plan in self.angie_plans.items():
            if word in request and "make_plan" in tools:
                self.calls.append(("angie", "make_plan"))
                return ModelResponse(parts=[ToolCallPart("make_plan", plan)])
        match = re.match(r"\s*(?:<untrusted-data[^>]*>\s*)?(\w+):\s*(.*)", request, re.S)
        if match and f"ask_{match[1]}" in tools:
            self.calls.append(("angie", f"ask_{match[1]}"))
            return ModelResponse(
                parts=[ToolCallPart(f"ask_{match[1]}", {"request": match[2].strip()})]
            )
        return ModelResponse(parts=[TextPart(f"Angie heard: {request}")])

    def _agent(
        self, request: str, tools: list[str], returns: list[str], messages: list[ModelMessage]
    ) -> ModelResponse:
        if returns:
            for word, follow in self.followups.items():
                if word in request:
                    step = follow(request, tools, returns)
                    if step is not None:
                        self.calls.append(("agent", step[0]))
                        return ModelResponse(parts=[ToolCallPart(step[0], step[1])])
            for word, answer in self.answers.items():
                if word in request:
                    return ModelResponse(parts=[TextPart(answer(request, _all_returns(messages)))])
            return ModelResponse(parts=[TextPart(f"done: {returns[-1][:300]}")])
        for word, plan in self.plans.items():
            if word in request:
                step = plan(request, tools)
                if step is not None:
                    self.calls.append(("agent", step[0]))
                    return ModelResponse(parts=[ToolCallPart(step[0], step[1])])
        return ModelResponse(parts=[TextPart(f"answer to: {request}")])


@dataclass
class StreamingBrain(Brain):
    """The same script, answered as a stream of small deltas, as hosted models answer."""

    def model(self, _name: str | None = None) -> Model:
        return FunctionModel(self._respond, stream_function=self._stream, model_name="brain")

    async def _stream(
        self, messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        response = self._respond(messages, info)
        for index, part in enumerate(response.parts):
            if isinstance(part, TextPart):
                for start in range(0, len(part.content), 5):
                    yield part.content[start : start + 5]
            elif isinstance(part, ToolCallPart):
                call = DeltaToolCall(
                    part.tool_name, part.args_as_json_str(), tool_call_id=part.tool_call_id
                )
                yield {index: call}
