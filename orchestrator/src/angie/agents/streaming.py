"""What an agent's run tells the live stream: the text the model writes, as it comes, and
its tool calls with their results."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.messages import (
    AgentStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
)

from angie.agents.audit import ToolCallRecord
from angie.db.models import ToolCallOutcome
from angie.live import LiveBus, LiveType

__all__ = ("TaskWatcher", "text_stream")


@dataclass(frozen=True, slots=True)
class TaskWatcher:
    """What the audit toolset tells the live stream about one task's tool calls."""

    bus: LiveBus
    task_id: int

    async def calling(
        self, server: str, tool: str, arguments: dict[str, Any], call_id: str | None
    ) -> None:
        await self.bus.announce(
            self.task_id,
            LiveType.TOOL_CALL,
            server=server,
            tool=tool,
            arguments=arguments,
            call_id=call_id,
        )

    async def called(self, call: ToolCallRecord) -> None:
        if call.outcome is ToolCallOutcome.AWAITING_APPROVAL:
            return  # the approval event says what happens next
        data: dict[str, Any] = {
            "server": call.server,
            "tool": call.tool,
            "ok": call.outcome is ToolCallOutcome.OK,
            "call_id": call.tool_call_id,
        }
        if call.outcome is not ToolCallOutcome.OK:
            data["outcome"] = call.outcome.value
            data["error"] = call.error
        await self.bus.announce(self.task_id, LiveType.TOOL_RESULT, **data)


def text_stream(bus: LiveBus, task_id: int) -> EventStreamHandler[Any]:
    """An ``event_stream_handler`` that publishes the text the model writes, as it comes."""

    async def handle(_ctx: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in events:
            delta = ""
            if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                delta = event.part.content
            elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                delta = event.delta.content_delta
            if delta:
                await bus.announce(task_id, LiveType.TEXT, delta=delta)

    return handle
