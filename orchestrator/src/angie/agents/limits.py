"""How far work may go, and the one sentence the person hears when it reaches a limit.

Two kinds of limit hold together. Per run (model requests, tool calls, tokens and the time it
takes; an agent may set its own): a delegation is a run of its own, and a run resumed after an
approval counts afresh. Per request (tool calls and tokens): everything one request led to —
the task, every task it delegated to, every run of each, resumed or repeated — shares one
budget, so a model that fans out into delegations cannot multiply the per-run limits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic_ai.usage import RunUsage, UsageLimits

__all__ = ("PER_AGENT", "RunLimits", "TreeUsage")

#: The per-run limits an agent may set for itself (``agents.limits``).
PER_AGENT = ("model_requests", "tool_calls", "tokens", "seconds")


@dataclass(frozen=True, slots=True)
class TreeUsage:
    """What a request has used so far, over all its tasks and runs."""

    tool_calls: int = 0
    tokens: int = 0


@dataclass(frozen=True, slots=True)
class RunLimits:
    model_requests: int = 50
    tool_calls: int = 100
    tokens: int = 200_000
    # Wall-clock seconds one run may take (waiting for the person does not count: the run
    # is suspended then; an inline delegation's run counts in its parent's).
    seconds: float = 3600.0
    # The whole request: the task, its delegations and all their runs.
    task_tool_calls: int = 300
    task_tokens: int = 1_000_000
    # What the request had used before this run (see :meth:`within`).
    spent: TreeUsage = TreeUsage()

    def overridden(self, values: dict[str, Any] | None) -> RunLimits:
        """These limits with an agent's own per-run values (a request's budget stays)."""
        chosen = {k: int(v) for k, v in (values or {}).items() if k in PER_AGENT and v}
        return replace(
            self,
            model_requests=chosen.get("model_requests", self.model_requests),
            tool_calls=chosen.get("tool_calls", self.tool_calls),
            tokens=chosen.get("tokens", self.tokens),
            seconds=chosen.get("seconds", self.seconds),
        )

    def within(self, spent: TreeUsage) -> RunLimits:
        """The limits of a run of a request that has used ``spent`` already."""
        return replace(self, spent=spent)

    def exhausted(self) -> str | None:
        """Why a run of this request may not start at all, if its budget is spent."""
        if self.spent.tool_calls >= self.task_tool_calls:
            return f"this request as a whole took more than {self.task_tool_calls} tool calls"
        if self.spent.tokens >= self.task_tokens:
            return f"this request as a whole took more than {self.task_tokens:,} tokens"
        return None

    def _tool_calls_left(self) -> int:
        return max(0, self.task_tool_calls - self.spent.tool_calls)

    def _tokens_left(self) -> int:
        return max(0, self.task_tokens - self.spent.tokens)

    def usage_limits(self) -> UsageLimits:
        return UsageLimits(
            request_limit=self.model_requests,
            tool_calls_limit=min(self.tool_calls, self._tool_calls_left()),
            total_tokens_limit=min(self.tokens, self._tokens_left()),
        )

    def reached(self, usage: RunUsage) -> str:
        """Which limit the run met, as the reason its task failed: read from the run's usage,
        not from pydantic-ai's message, which is written for developers."""
        if usage.total_tokens > min(self.tokens, self._tokens_left()):
            if self._tokens_left() < self.tokens:
                return f"this request as a whole took more than {self.task_tokens:,} tokens"
            return f"this took more than {self.tokens:,} tokens"
        if usage.tool_calls >= min(self.tool_calls, self._tool_calls_left()):
            if self._tool_calls_left() < self.tool_calls:
                return f"this request as a whole took more than {self.task_tool_calls} tool calls"
            return f"this took more than {self.tool_calls} tool calls"
        return f"this took more than {self.model_requests} requests to the language model"

    def out_of_time(self) -> str:
        """Why a run that took too long was stopped."""
        minutes = self.seconds / 60
        took = f"{minutes:g} minutes" if minutes >= 1 else f"{self.seconds:g} seconds"
        return f"this took longer than {took}"

    @staticmethod
    def told(reason: str) -> str:
        return f"I stopped: {reason}; ask again if you want me to go on."
