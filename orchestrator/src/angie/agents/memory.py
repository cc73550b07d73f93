"""Conversation memory per person and thread: the recent messages verbatim, older ones folded
into a running summary so a long conversation stays within the model's reach.

Messages written after reading outside content (``tainted_by``) are read back fenced as data
and taint the run that reads them; the summary leaves their words out, so nothing from outside
is laundered into memory the next trusted run would obey."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserPromptPart,
)
from sqlalchemy import func, select

from angie.agents.trust import fence, started_by
from angie.db.engine import Database
from angie.db.models import ChannelKind, Conversation, Message, MessageRole, Task
from angie.feedback import conversation_for

__all__ = ("ConversationMemory", "Recalled", "Summarise")

log = logging.getLogger(__name__)

# (previous summary, messages to fold in as "role: text" lines) → the new summary.
Summarise = Callable[[str | None, list[str]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Recalled:
    """What came before a request: the summary, the recent messages, what tainted any of
    them, and the conversation's id for the rest of the turn (None: a task of nobody's)."""

    summary: str | None = None
    messages: list[ModelMessage] = field(default_factory=list)
    tainted_by: str | None = None
    conversation_id: int | None = None


class ConversationMemory:
    def __init__(self, database: Database, *, keep: int, summarise: Summarise | None) -> None:
        self.db = database
        self.keep = keep
        self._summarise = summarise

    @staticmethod
    def _where(task: Task) -> tuple[int, ChannelKind, str] | None:
        if task.user_id is None:
            return None
        return task.user_id, task.channel or ChannelKind.WEB, task.thread or ""

    async def history(self, task: Task) -> tuple[str | None, list[ModelMessage], str | None]:
        """(summary, recent messages, what tainted any of them) before this task's request."""
        recalled = await self.remember_and_recall(task, None)
        return recalled.summary, recalled.messages, recalled.tainted_by

    async def remember_and_recall(self, task: Task, text: str | None) -> Recalled:
        """Keep the person's request (``text``, once per task) and read what came before it,
        in one transaction."""
        where = self._where(task)
        if where is None:
            return Recalled()
        async with self.db.session() as session:
            conversation = await conversation_for(session, *where)
            if text is not None:
                seen = await session.scalar(
                    select(func.count()).where(
                        Message.task_id == task.id, Message.role == MessageRole.USER
                    )
                )
                if not seen:
                    session.add(
                        Message(
                            conversation_id=conversation.id,
                            role=MessageRole.USER,
                            content=text,
                            task_id=task.id,
                            tainted_by=task.tainted_by or started_by(task),
                        )
                    )
            rows = list(
                await session.scalars(
                    select(Message)
                    .where(
                        Message.conversation_id == conversation.id,
                        Message.role.in_((MessageRole.USER, MessageRole.ASSISTANT)),
                        (Message.task_id.is_(None)) | (Message.task_id != task.id),
                    )
                    .order_by(Message.id.desc())
                    .limit(self.keep)
                )
            )
        rows.reverse()
        tainted_by = next((m.tainted_by for m in rows if m.tainted_by is not None), None)
        return Recalled(
            conversation.summary,
            [_as_model_message(m) for m in rows],
            tainted_by,
            conversation.id,
        )

    async def fold(self, task: Task, conversation_id: int | None = None) -> None:
        """Summarise what fell out of the window since the last summary (after a chat turn);
        ``conversation_id``: the task's conversation, as the turn found it."""
        where = self._where(task)
        if where is None or self._summarise is None:
            return
        async with self.db.session() as session:
            if conversation_id is None:
                conversation_id = (await conversation_for(session, *where)).id
            ids = list(
                await session.scalars(
                    select(Message.id)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.id.desc())
                    .limit(self.keep)
                )
            )
            if len(ids) < self.keep:
                return
            # Its summary is read now, not at the turn's start: another turn of the same
            # thread may have folded meanwhile.
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return
            oldest_kept = min(ids)
            folded_upto = conversation.summary_upto or 0
            fallen = list(
                await session.scalars(
                    select(Message)
                    .where(
                        Message.conversation_id == conversation.id,
                        Message.id > folded_upto,
                        Message.id < oldest_kept,
                    )
                    .order_by(Message.id)
                )
            )
            if not fallen:
                return
            lines = [_summary_line(m) for m in fallen]
            previous = conversation.summary
        try:
            summary = await self._summarise(previous, lines)
        except Exception:
            # The conversation goes on without a fresh summary; the next turn tries again.
            log.exception("could not summarise conversation %s", conversation_id)
            return
        async with self.db.session() as session:
            row = await session.get(Conversation, conversation_id)
            if row is not None:
                row.summary = summary
                row.summary_upto = fallen[-1].id


def _summary_line(message: Message) -> str:
    if message.tainted_by is not None:
        return (
            f"{message.role.value}: (a message about content from outside the household, "
            f"{message.tainted_by}; its words are left out of the summary)"
        )
    return f"{message.role.value}: {message.content}"


def _as_model_message(message: Message) -> ModelMessage:
    if message.tainted_by is not None:
        # Whoever wrote it, it may quote outside content: data to read, never to obey.
        said = "the person" if message.role is MessageRole.USER else "Angie"
        return ModelRequest(
            parts=[
                UserPromptPart(
                    fence(message.content, f"earlier, {said} after reading {message.tainted_by}")
                )
            ]
        )
    if message.role is MessageRole.USER:
        return ModelRequest(parts=[UserPromptPart(message.content)])
    return ModelResponse(parts=[TextPart(message.content)])
