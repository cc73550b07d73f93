"""A pydantic-ai conversation as Copilot reads it: the session's system message, the prompt
of a fresh session, and the tool results that resume a paused one."""

from __future__ import annotations

from collections.abc import Sequence

from copilot.rpc import ExternalToolTextResultForLlm
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import (
    CachePoint,
    InstructionPart,
    ModelMessage,
    ModelRequest,
    RetryFeedbackPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

__all__ = ("render_prompt", "system_prompt", "tool_results")

_RESULT_TYPES = {"success": "success", "denied": "denied"}  # anything else is a failure


def _user_text(part: UserPromptPart) -> str:
    if isinstance(part.content, str):
        return part.content
    texts: list[str] = []
    for item in part.content:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, TextContent):
            texts.append(item.content)
        elif not isinstance(item, CachePoint):
            raise UserError(f"Copilot models in Angie take text only, not {item.kind} content.")
    return "\n".join(texts)


def system_prompt(messages: Sequence[ModelMessage], instructions: Sequence[InstructionPart]) -> str:
    """The session's system message: the history's system prompts, then the instructions."""
    prompts = [
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, SystemPromptPart)
    ]
    return "\n\n".join([*prompts, InstructionPart.join(instructions) or ""]).strip()


def render_prompt(messages: Sequence[ModelMessage]) -> str:
    """The prompt of a fresh session: the last user message alone, or the whole conversation."""
    lines: list[str] = []
    only_user = True
    for message in messages:
        for part in message.parts:
            if isinstance(part, UserPromptPart):
                lines.append(f"User: {_user_text(part)}")
                continue
            if isinstance(part, SystemPromptPart):
                continue
            only_user = False
            if isinstance(part, TextPart) and part.content:
                lines.append(f"Assistant: {part.content}")
            elif isinstance(part, ToolCallPart):
                lines.append(
                    f"Assistant called the tool {part.tool_name} (call {part.tool_call_id}) "
                    f"with {part.args_as_json_str()}"
                )
            elif isinstance(part, ToolReturnPart):
                lines.append(f"Tool result (call {part.tool_call_id}): {part.model_response_str()}")
            elif isinstance(part, RetryFeedbackPart):
                lines.append(f"Feedback: {part.model_response()}")
    if only_user and len(lines) == 1:
        return lines[0].removeprefix("User: ")
    # A new session has no memory of earlier turns, so it reads them as a transcript.
    return (
        "<conversation>\n" + "\n\n".join(lines) + "\n</conversation>\n\n"
        "Continue this conversation: answer its last message as the assistant."
    )


def tool_results(messages: Sequence[ModelMessage]) -> dict[str, ExternalToolTextResultForLlm]:
    """The results the last request carries, when it carries nothing else."""
    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest) or not last.parts:
        return {}
    if not all(isinstance(part, ToolReturnPart) for part in last.parts):
        return {}
    return {
        part.tool_call_id: ExternalToolTextResultForLlm(
            text_result_for_llm=part.model_response_str(),
            result_type=_RESULT_TYPES.get(part.outcome, "failure"),
        )
        for part in last.parts
        if isinstance(part, ToolReturnPart)
    }
