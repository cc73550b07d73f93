"""The loop breaker: the same side-effecting call (tool and arguments) made more than a few
times in one task stops and asks the person before it happens again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_ai import ApprovalRequired, RunContext
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from angie.agents.journal import identical_calls
from angie.agents.policy import args_hash, is_read_only

__all__ = ("LoopBreakerToolset", "ordinal")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass
class LoopBreakerToolset(WrapperToolset[Any]):
    """Counts a task's identical side-effecting calls from its run's messages (which a run
    resumed after an approval keeps), so the count holds for the whole task. Past ``most`` the
    call waits for the person's approval, its metadata saying why; read-only calls are free."""

    server: str = ""
    most: int = 3

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        if not is_read_only(tool.tool_def) and not ctx.tool_call_approved:
            digest = args_hash(name, tool_args)
            ids = identical_calls(ctx.messages, name, tool_args)
            # Its place among them: of several identical calls in one answer, the first go.
            nth = ids.index(ctx.tool_call_id) + 1 if ctx.tool_call_id in ids else len(ids) + 1
            if nth > self.most:
                raise ApprovalRequired(
                    metadata={
                        "server": self.server,
                        "tool": name.removeprefix(f"{self.server}_"),
                        "args_hash": digest,
                        "reason": (
                            f"this is the {ordinal(nth)} identical call to {name} in this task"
                        ),
                    }
                )
        return await self.wrapped.call_tool(name, tool_args, ctx, tool)
