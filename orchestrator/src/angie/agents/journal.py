"""The effects journal: a redelivered task never repeats a side effect it already made, and
never silently repeats one it may have made.

Each side-effecting call a task makes is journaled, keyed by the tool, a hash of its arguments
and how many identical calls came before it in the task: as an intent (``pending``), committed
before the call goes out, then ``done`` with its result. When a task runs again (a worker
died, the process restarted), a done call is answered from the journal. A call still pending
was out when Angie stopped: the vendor may or may not have acted. A tool its server declares
idempotent (``idempotentHint``) is simply made again; any other waits for the person, who is
told it may already have happened, and is made again only if they approve.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic_ai import ApprovalRequired, RunContext
from pydantic_ai.messages import ModelMessage, ToolCallPart
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_core import to_jsonable_python
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from angie.agents.policy import args_hash, is_read_only
from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import EffectState, TaskEffect
from angie.mcp.supervisor import ServerGone

__all__ = (
    "RESTARTED",
    "Effect",
    "EffectJournal",
    "JournalToolset",
    "identical_before",
    "identical_calls",
    "is_idempotent",
)

log = logging.getLogger(__name__)

Key = tuple[str, str, int]

#: Why a call waits for the person after a restart (the approval request says it).
RESTARTED = "this call may already have happened: it was under way when Angie or its server stopped"


def identical_calls(messages: Sequence[ModelMessage], name: str, args: dict[str, Any]) -> list[str]:
    """The ids of a run's calls to ``name`` with these arguments, in order."""
    digest = args_hash(name, args)
    return [
        part.tool_call_id
        for message in messages
        for part in message.parts
        if isinstance(part, ToolCallPart)
        and part.tool_name == name
        and args_hash(name, part.args_as_dict()) == digest
    ]


def identical_before(
    messages: Sequence[ModelMessage], call_id: str | None, name: str, args: dict[str, Any]
) -> int | None:
    """How many identical calls came before this one in the run; None if it is not there."""
    ids = identical_calls(messages, name, args)
    return ids.index(call_id) if call_id in ids else None


def is_idempotent(tool_def: ToolDefinition) -> bool:
    """Whether the server declares that making the call again changes nothing more (MCP
    ``idempotentHint``, e.g. setting a light to an absolute state); no hint means it might."""
    hints = (tool_def.metadata or {}).get("annotations") or {}
    return hints.get("idempotentHint") is True


@dataclass(frozen=True, slots=True)
class Effect:
    """One journaled call: done with its result, or pending since ``started_at``."""

    state: EffectState
    result: Any = None
    started_at: datetime | None = None


@dataclass
class EffectJournal:
    """The journal of one task; shared by every toolset of one run of it."""

    database: Database
    task_id: int
    _seen: Counter[tuple[str, str]] = field(default_factory=Counter)

    def next_key(self, tool: str, args: dict[str, Any], earlier: int | None = None) -> Key:
        """The call's key; ``earlier`` identical calls of the task's run, where known (a run
        resumed after an approval starts a new journal but goes on counting from them)."""
        digest = args_hash(tool, args)
        sequence = self._seen[(tool, digest)] if earlier is None else earlier
        self._seen[(tool, digest)] = sequence + 1
        return tool, digest, sequence

    def _where(self, key: Key) -> tuple[Any, ...]:
        tool, digest, sequence = key
        return (
            TaskEffect.task_id == self.task_id,
            TaskEffect.tool == tool,
            TaskEffect.args_hash == digest,
            TaskEffect.sequence == sequence,
        )

    async def lookup(self, key: Key) -> Effect | None:
        """The journaled call, if any."""
        async with self.database.session() as session:
            row = (await session.scalars(select(TaskEffect).where(*self._where(key)))).one_or_none()
        if row is None:
            return None
        return Effect(EffectState(row.state), row.result, row.started_at)

    async def begin(self, key: Key) -> bool:
        """Journal the intent, committed before the call goes out; True if it is new, False if
        a pending call of the key is being made again."""
        tool, digest, sequence = key
        now = utcnow()
        try:
            async with self.database.session() as session:
                session.add(
                    TaskEffect(
                        task_id=self.task_id,
                        tool=tool,
                        args_hash=digest,
                        sequence=sequence,
                        state=EffectState.PENDING,
                        started_at=now,
                    )
                )
            return True
        except IntegrityError:
            async with self.database.session() as session:
                await session.execute(
                    update(TaskEffect)
                    .where(*self._where(key), TaskEffect.state == EffectState.PENDING)
                    .values(started_at=now)
                    .execution_options(synchronize_session=False)
                )
            return False

    async def finish(self, key: Key, result: Any) -> None:
        """The call came back: done, with its result."""
        async with self.database.session() as session:
            await session.execute(
                update(TaskEffect)
                .where(*self._where(key))
                .values(state=EffectState.DONE, result=to_jsonable_python(result, fallback=str))
                .execution_options(synchronize_session=False)
            )

    async def abandon(self, key: Key) -> None:
        """Forget an intent whose call failed in front of us (the error said what happened)."""
        async with self.database.session() as session:
            await session.execute(
                delete(TaskEffect)
                .where(*self._where(key), TaskEffect.state == EffectState.PENDING)
                .execution_options(synchronize_session=False)
            )


def _decided_after(metadata: Any, started_at: datetime | None) -> bool:
    """Whether the approval a resumed call carries was given after the call first went out,
    i.e. by a person who was told it may already have happened."""
    if started_at is None or not isinstance(metadata, Mapping):
        return False
    decided = metadata.get("decided_at")
    if not isinstance(decided, str):
        return False
    try:
        return datetime.fromisoformat(decided) > started_at
    except ValueError:
        return False


@dataclass
class JournalToolset(WrapperToolset[Any]):
    """Journals each side-effecting call before and after it; answers a call done before in
    this task from the journal and reconciles one that was out when Angie stopped."""

    journal: EffectJournal | None = None

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        journal = self.journal
        if journal is None or is_read_only(tool.tool_def):
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)
        earlier = identical_before(ctx.messages, ctx.tool_call_id, name, tool_args)
        key = journal.next_key(name, tool_args, earlier)
        effect = await journal.lookup(key)
        if effect is not None and effect.state is EffectState.DONE:
            log.info("task %s: %s was done before; not repeating it", journal.task_id, name)
            return effect.result
        if effect is not None:
            self._reconcile(name, tool_args, ctx, tool.tool_def, effect)
        fresh = await journal.begin(key)
        try:
            result = await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except ServerGone:
            raise  # the server went away with the call out: it may have acted, the intent stays
        except Exception:
            # Refused before it went out (policy, approval) or failed in front of us: a new
            # intent is forgotten. One that was out before a restart stays: it may have acted.
            if fresh:
                await journal.abandon(key)
            raise
        await journal.finish(key, result)
        return result

    def _reconcile(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[Any],
        tool_def: ToolDefinition,
        effect: Effect,
    ) -> None:
        """A call that was out when Angie stopped: made again if that is safe or the person
        said so after hearing why; otherwise the run stops to ask them."""
        task = self.journal.task_id if self.journal is not None else None
        if is_idempotent(tool_def):
            log.info(
                "task %s: %s may have happened before a restart; idempotent, so made again",
                task,
                name,
            )
            return
        if ctx.tool_call_approved and _decided_after(ctx.tool_call_metadata, effect.started_at):
            log.info(
                "task %s: %s may have happened before a restart; made again, approved", task, name
            )
            return
        raise ApprovalRequired(
            metadata={
                "args_hash": args_hash(name, tool_args),
                "reason": RESTARTED,
                "restarted": True,
            }
        )
