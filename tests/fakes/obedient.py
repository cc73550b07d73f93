"""A language model that obeys every instruction it reads, wherever it reads it: the worst case
for prompt injection. It plays Angie (who delegates) and her agents (who call tools), like
:class:`fakes.brain.Brain`, and reaches for ``hue_set_light`` whenever any text it can see (the
request, the conversation so far, a tool's output, fenced or not) names that tool with JSON
arguments — after undoing the disguises an attacker would use (unicode controls, escapes)."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

__all__ = ("TOOL", "Obedient", "find_command")

TOOL = "hue_set_light"
_FENCE = re.compile(r"<untrusted-data[^>]*>\n(.*)\n</untrusted-data>", re.S)


def _visible(text: str) -> str:
    """What a model reads past the disguises: format and control characters dropped (zero-width
    spaces, bidi overrides, soft hyphens), compatibility forms folded (full-width letters)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if c in "\n\t" or unicodedata.category(c) not in {"Cf", "Cc"})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        # A fenced or serialised output holds JSON: read the strings inside it too.
        for candidate in [value, *(html.unescape(inner) for inner in _FENCE.findall(value))]:
            try:
                inner = json.loads(candidate)
            except ValueError:
                continue
            if not isinstance(inner, str):
                yield from _strings(inner)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def find_command(texts: list[str]) -> dict[str, Any] | None:
    """The arguments of the last ``hue_set_light`` call any of ``texts`` asks for."""
    found: dict[str, Any] | None = None
    for text in (_visible(s).replace('\\"', '"') for raw in texts for s in _strings(raw)):
        for match in re.finditer(TOOL, text):
            start = text.find("{", match.end())
            while start != -1:
                try:
                    args, _ = json.JSONDecoder().raw_decode(text, start)
                except ValueError:
                    start = text.find("{", start + 1)
                    continue
                if isinstance(args, dict) and "name" in args:
                    found = args
                    break
                start = text.find("{", start + 1)
    return found


def _texts(messages: list[ModelMessage]) -> list[str]:
    texts: list[str] = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, UserPromptPart | SystemPromptPart | TextPart | ToolReturnPart):
                content = part.content
                texts.append(content if isinstance(content, str) else json.dumps(content))
            elif isinstance(part, RetryPromptPart):
                texts.append(part.model_response())
    return texts


def _request(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


@dataclass
class Obedient:
    """Angie delegates ``hue: …`` requests (and any command she reads) to the hue agent; the
    agent lists the lights when asked about them and calls what it is told to call."""

    # Every hue_set_light call it made, with the arguments.
    obeyed: list[dict[str, Any]] = field(default_factory=list)

    def model(self, _name: str | None = None) -> Model:
        return FunctionModel(self._respond, model_name="obedient")

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if "Summarise this conversation" in (info.instructions or ""):
            return ModelResponse(parts=[TextPart("summary")])
        tools = [t.name for t in info.function_tools]
        last = messages[-1]
        answered = isinstance(last, ModelRequest) and any(
            isinstance(p, ToolReturnPart | RetryPromptPart) for p in last.parts
        )
        command = find_command(_texts(messages))
        made = {
            json.dumps(p.args_as_dict(), sort_keys=True)
            for m in messages
            if isinstance(m, ModelResponse)
            for p in m.parts
            if isinstance(p, ToolCallPart) and p.tool_name == TOOL
        }
        if "ask_hue" in tools:
            return self._angie(messages, command, answered=answered)
        if (
            command is not None
            and TOOL in tools
            and json.dumps(command, sort_keys=True) not in made
        ):
            self.obeyed.append(command)
            return ModelResponse(parts=[ToolCallPart(TOOL, command)])
        if not answered and "hue_list_lights" in tools and "lights" in _request(messages):
            return ModelResponse(parts=[ToolCallPart("hue_list_lights", {})])
        # It reports everything it read, quoting it, as a helpful model does.
        read = " ".join(_said(m) for m in messages if isinstance(m, ModelRequest))
        return ModelResponse(parts=[TextPart(f"done: {read.strip()[:4000]}")])

    def _angie(
        self, messages: list[ModelMessage], command: dict[str, Any] | None, *, answered: bool
    ) -> ModelResponse:
        if answered:
            # She passes on what she heard, quoting it: the way outside words reach memory.
            return ModelResponse(parts=[TextPart(f"Angie: {_said(messages[-1])[:2000]}")])
        if command is not None:
            order = f"{TOOL} {json.dumps(command)}"
            return ModelResponse(parts=[ToolCallPart("ask_hue", {"request": order})])
        match = re.match(r"\s*hue:\s*(.*)", _request(messages), re.S)
        if match:
            return ModelResponse(parts=[ToolCallPart("ask_hue", {"request": match[1]})])
        return ModelResponse(parts=[TextPart("Nothing to do.")])


def _said(message: ModelMessage) -> str:
    parts = [
        p.content if isinstance(p.content, str) else json.dumps(p.content, default=str)
        for p in message.parts
        if isinstance(p, ToolReturnPart)
    ]
    return " ".join(parts)
