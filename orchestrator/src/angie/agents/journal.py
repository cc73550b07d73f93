"""The effects journal: a redelivered task never repeats a side effect it already made.

Each side-effecting call a task makes is journaled with its result, keyed by the tool, a hash
of its arguments and how many identical calls came before it in the task. When a task runs
again (a worker died, the process restarted), the same call is answered from the journal.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.messages import ModelMessage, ToolCallPart
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from angie.agents.policy import args_hash, is_read_only
from angie.db.engine import Database
from angie.db.models import TaskEffect

__all__ = ("EffectJournal", "JournalToolset", "identical_before", "identical_calls")

log = logging.getLogger(__name__)


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


@dataclass
class EffectJournal:
    """The journal of one task; shared by every toolset of one run of it."""

    database: Database
    task_id: int
    _seen: Counter[tuple[str, str]] = field(default_factory=Counter)

    def next_key(
        self, tool: str, args: dict[str, Any], earlier: int | None = None
    ) -> tuple[str, str, int]:
        """The call's key; ``earlier`` identical calls of the task's run, where known (a run
        resumed after an approval starts a new journal but goes on counting from them)."""
        digest = args_hash(tool, args)
        sequence = self._seen[(tool, digest)] if earlier is None else earlier
        self._seen[(tool, digest)] = sequence + 1
        return tool, digest, sequence

    async def lookup(self, key: tuple[str, str, int]) -> tuple[bool, Any]:
        tool, digest, sequence = key
        async with self.database.session() as session:
            row = (
                await session.scalars(
                    select(TaskEffect).where(
                        TaskEffect.task_id == self.task_id,
                        TaskEffect.tool == tool,
                        TaskEffect.args_hash == digest,
                        TaskEffect.sequence == sequence,
                    )
                )
            ).one_or_none()
        return (True, row.result) if row is not None else (False, None)

    async def save(self, key: tuple[str, str, int], result: Any) -> None:
        tool, digest, sequence = key
        try:
            async with self.database.session() as session:
                session.add(
                    TaskEffect(
                        task_id=self.task_id,
                        tool=tool,
                        args_hash=digest,
                        sequence=sequence,
                        result=to_jsonable_python(result, fallback=str),
                    )
                )
        except IntegrityError:
            log.info("effect of %s in task %s was journaled already", tool, self.task_id)


@dataclass
class JournalToolset(WrapperToolset[Any]):
    """Answers a side-effecting call made before in this task from the journal."""

    journal: EffectJournal | None = None

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        if self.journal is None or is_read_only(tool.tool_def):
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)
        earlier = identical_before(ctx.messages, ctx.tool_call_id, name, tool_args)
        key = self.journal.next_key(name, tool_args, earlier)
        done, result = await self.journal.lookup(key)
        if done:
            log.info("task %s: %s was done before; not repeating it", self.journal.task_id, name)
            return result
        result = await self.wrapped.call_tool(name, tool_args, ctx, tool)
        await self.journal.save(key, result)
        return result
