"""How far one agent run may go (model requests, tool calls, tokens), and the one sentence the
person hears when a run reaches a limit. The limits hold per run: a delegation is a run of
its own, and a run resumed after an approval counts afresh."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_ai.usage import RunUsage, UsageLimits

__all__ = ("RunLimits",)


@dataclass(frozen=True, slots=True)
class RunLimits:
    model_requests: int = 50
    tool_calls: int = 100
    tokens: int = 200_000

    def usage_limits(self) -> UsageLimits:
        return UsageLimits(
            request_limit=self.model_requests,
            tool_calls_limit=self.tool_calls,
            total_tokens_limit=self.tokens,
        )

    def reached(self, usage: RunUsage) -> str:
        """Which limit the run met, as the reason its task failed: read from the run's usage,
        not from pydantic-ai's message, which is written for developers."""
        if usage.total_tokens > self.tokens:
            return f"this took more than {self.tokens:,} tokens"
        if usage.tool_calls >= self.tool_calls:
            return f"this took more than {self.tool_calls} tool calls"
        return f"this took more than {self.model_requests} requests to the language model"

    @staticmethod
    def told(reason: str) -> str:
        return f"I stopped: {reason}; ask again if you want me to go on."
