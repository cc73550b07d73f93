"""The audit trail of tool calls: what each agent called, with which (redacted) arguments,
how it ended and how long it took."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic_ai import ApprovalRequired, CallDeferred, ModelRetry, RunContext, ToolFailed
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_core import to_jsonable_python

from angie.agents.policy import ToolForbidden
from angie.db.engine import Database
from angie.db.models import ToolCall, ToolCallOutcome
from angie.errors import AngieError
from angie.mcp.toolsets import ServerTrouble

__all__ = (
    "REDACTED",
    "AuditToolset",
    "DatabaseRecorder",
    "Recorder",
    "ToolCallRecord",
    "Watcher",
    "redact",
)

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
MAX_STRING = 500
MAX_ERROR = 300

# Matched against the key lowercased with separators removed, so "X-Api-Key", "api_key" and
# "apiKey" all read "xapikey"/"apikey". Over-redacting ("max_tokens") is the cheap mistake.
_SECRET_KEY = re.compile(
    r"token|secret|passw|passphrase|apikey|authorization|cookie|credential|privatekey"
    r"|accesskey|signingkey|sessionid|bearer"
)
_SECRET_EXACT = frozenset({"auth", "pwd", "pass", "otp"})


def _is_secret_key(key: object) -> bool:
    normalized = re.sub(r"[\s_\-.]", "", str(key).lower())
    return normalized in _SECRET_EXACT or _SECRET_KEY.search(normalized) is not None


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated {len(text) - limit} chars]"


def _redact_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, Mapping):
        return _redact_mapping(value, secrets)
    if isinstance(value, list | tuple):
        return [_redact_value(item, secrets) for item in value]
    if isinstance(value, str):
        return _truncate(value, MAX_STRING)
    return value


def _collect_secrets(value: Any, secrets: list[str]) -> None:
    if isinstance(value, Mapping):
        for item in value.values():
            _collect_secrets(item, secrets)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, secrets)
    elif isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) >= 4:
        # Short values ("1", "yes") would scrub half of any error message they appear in.
        secrets.append(str(value))


def _redact_mapping(args: Mapping[Any, Any], secrets: list[str]) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for key, value in args.items():
        if _is_secret_key(key):
            _collect_secrets(value, secrets)
            redacted[str(key)] = REDACTED
        else:
            redacted[str(key)] = _redact_value(value, secrets)
    return redacted


def redact(args: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``args`` fit for the audit trail: secrets replaced, long strings cut.

    A value whose key looks secret (token, password, api key, cookie, …; any case, at any
    depth, also inside lists) becomes ``"[redacted]"`` whole, even when it is itself a dict.
    Strings over 500 characters are truncated with a marker. The input is never changed;
    validated values (a function tool's pydantic models) are read as their JSON.
    """
    return _redact_mapping(to_jsonable_python(args), [])


def _scrub(text: str, args: Mapping[str, Any]) -> str:
    """``text`` with every secret value found in ``args`` replaced, then shortened."""
    secrets: list[str] = []
    _redact_mapping(args, secrets)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _truncate(text, MAX_ERROR)


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One tool call as the audit trail keeps it."""

    server: str
    tool: str
    arguments: dict[str, Any]
    outcome: ToolCallOutcome
    error: str | None
    duration_ms: int
    tool_call_id: str | None

    def row(self, task_id: int) -> ToolCall:
        """The ``tool_calls`` row of ``task_id`` that keeps it."""
        return ToolCall(
            task_id=task_id,
            server=self.server,
            tool=self.tool,
            arguments=self.arguments,
            outcome=self.outcome,
            error=self.error,
            duration_ms=self.duration_ms,
        )


class Recorder(Protocol):
    async def record(self, call: ToolCallRecord) -> None: ...


class Watcher(Protocol):
    """Who follows the calls as they happen (the live stream), with the same redacted view."""

    async def calling(
        self, server: str, tool: str, arguments: dict[str, Any], call_id: str | None
    ) -> None: ...

    async def called(self, call: ToolCallRecord) -> None: ...


def _trouble(err: BaseException) -> ServerTrouble | None:
    """The server's failure behind ``err`` (the model's copy of it may be fenced, or wrapped)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, ServerTrouble):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def _error_text(err: BaseException) -> str:
    trouble = _trouble(err)
    if trouble is not None:
        return trouble.said
    if isinstance(err, AngieError):  # names the server and what happened to it
        return err.message
    if isinstance(err, ModelRetry | ToolFailed):
        return err.message
    detail = str(err)
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


def _outcome(err: BaseException) -> ToolCallOutcome:
    if isinstance(err, ApprovalRequired):
        return ToolCallOutcome.AWAITING_APPROVAL
    if isinstance(err, ToolForbidden):
        return ToolCallOutcome.DENIED
    trouble = _trouble(err)
    if trouble is not None and trouble.timed_out:
        return ToolCallOutcome.TIMEOUT
    if isinstance(err, TimeoutError) or isinstance(err.__cause__, TimeoutError):
        return ToolCallOutcome.TIMEOUT
    return ToolCallOutcome.ERROR


@dataclass
class AuditToolset(WrapperToolset[AgentDepsT]):
    """Records every call to one server's prefixed tools, then lets the result or error through;
    a ``watcher`` (the live stream) hears of each call as it starts and as it ends.

    Wrap it around the ``PolicyToolset`` so calls waiting for approval and calls the policy
    forbids are recorded too. A call the user denies never reaches a toolset; whoever applies
    the user's answer records it.
    """

    server: str
    recorder: Recorder
    watcher: Watcher | None = None

    async def call_tool(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AgentDepsT],
        tool: ToolsetTool[AgentDepsT],
    ) -> Any:
        if self.watcher is not None:
            tool_name = name.removeprefix(f"{self.server}_")
            await self.watcher.calling(self.server, tool_name, redact(tool_args), ctx.tool_call_id)
        started = time.monotonic()
        try:
            result = await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except CallDeferred:
            # Handed to a task of its own that waits for the person (a delegation whose agent
            # asks first): recorded as waiting; whoever resumes the run records how it ended.
            await self._record(
                name, tool_args, ctx, started, ToolCallOutcome.AWAITING_APPROVAL, None
            )
            raise
        except Exception as err:
            outcome = _outcome(err)
            error = None if outcome is ToolCallOutcome.AWAITING_APPROVAL else _error_text(err)
            await self._record(name, tool_args, ctx, started, outcome, error)
            raise
        await self._record(name, tool_args, ctx, started, ToolCallOutcome.OK, None)
        return result

    async def _record(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AgentDepsT],
        started: float,
        outcome: ToolCallOutcome,
        error: str | None,
    ) -> None:
        record = ToolCallRecord(
            server=self.server,
            tool=name.removeprefix(f"{self.server}_"),
            arguments=redact(tool_args),
            outcome=outcome,
            error=None if error is None else _scrub(error, tool_args),
            duration_ms=round((time.monotonic() - started) * 1000),
            tool_call_id=ctx.tool_call_id,
        )
        await self.recorder.record(record)
        if self.watcher is not None:
            await self.watcher.called(record)


class DatabaseRecorder:
    """Writes each record as a ``tool_calls`` row of one task, in its own short transaction."""

    def __init__(self, database: Database, task_id: int) -> None:
        self._database = database
        self._task_id = task_id

    async def record(self, call: ToolCallRecord) -> None:
        try:
            async with self._database.session() as session:
                session.add(call.row(self._task_id))
        except Exception:
            # The audit trail must never cost the user the call itself.
            log.exception(
                "could not record the %s call to %s.%s of task %s",
                call.outcome,
                call.server,
                call.tool,
                self._task_id,
            )
