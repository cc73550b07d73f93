"""``/api/conversations``: your conversations with Angie, one per channel and thread, and their
messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.schemas import ListParams, Out, Page, order_by, paginate
from angie.db.models import ChannelKind, Conversation, Message, MessageRole
from angie.errors import Invalid, NotFound

__all__ = ("ConversationOut", "MessageOut", "ScratchFileOut", "ScratchFilesOut", "router")

router = APIRouter(prefix="/conversations", tags=["conversations"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
PREVIEW = 200


class LastMessage(BaseModel):
    role: MessageRole
    preview: str = Field(description=f"The message's first {PREVIEW} characters.")
    created_at: datetime


class ConversationOut(BaseModel):
    id: int
    channel: ChannelKind
    thread: str
    title: str | None
    created_at: datetime
    updated_at: datetime = Field(description="When the last message was said.")
    last_message: LastMessage | None


class MessageOut(Out):
    id: int
    role: MessageRole
    content: str
    task_id: int | None
    created_at: datetime


class ScratchFileOut(BaseModel):
    name: str = Field(description="The file's name within the conversation (notes/plan.md).")
    size: int = Field(description="Bytes.")
    modified: datetime = Field(description="When it was last written.")


class ScratchFilesOut(BaseModel):
    items: list[ScratchFileOut]
    used_bytes: int = Field(description="What the conversation's scratch files take together.")
    max_bytes: int = Field(description="What they may take (ANGIE_SCRATCH_MAX_BYTES).")


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW else f"{text[: PREVIEW - 1]}…"


@router.get("", operation_id="list_conversations")
async def list_conversations(
    user: CurrentUser,
    session: SessionDep,
    params: ListParams,
    channel: Annotated[ChannelKind | None, Query(description="Only this channel's.")] = None,
) -> Page[ConversationOut]:
    """Your conversations, the most recently active first, each with its last message."""
    mine = [Conversation.user_id == user.id]
    if channel is not None:
        mine.append(Conversation.channel == channel)
    last_ids = (
        select(Message.conversation_id, func.max(Message.id).label("last_id"))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*mine)
        .group_by(Message.conversation_id)
        .subquery()
    )
    last = aliased(Message)
    active = func.coalesce(last.created_at, Conversation.updated_at)
    sorts: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
        "updated_at": active,
        "created_at": Conversation.created_at,
        "id": Conversation.id,
    }
    wanted = params.sort or "-updated_at"
    column = sorts.get(wanted.removeprefix("-"))
    if column is None:
        field = wanted.removeprefix("-")
        raise Invalid(
            f"cannot sort by {field!r}; use one of {', '.join(sorted(sorts))}",
            details=[{"field": "query: sort", "message": f"unknown sort field {field!r}"}],
        )
    descending = wanted.startswith("-")
    stmt = (
        select(Conversation, last)
        .outerjoin(last_ids, last_ids.c.conversation_id == Conversation.id)
        .outerjoin(last, last.id == last_ids.c.last_id)
        .where(*mine)
        .order_by(column.desc() if descending else column.asc())
        .order_by(Conversation.id.desc() if descending else Conversation.id.asc())
    )
    total = await session.scalar(select(func.count()).select_from(Conversation).where(*mine))
    rows = (await session.execute(stmt.limit(params.limit).offset(params.offset))).all()
    items = [
        ConversationOut(
            id=conversation.id,
            channel=conversation.channel,
            thread=conversation.thread,
            title=conversation.title,
            created_at=conversation.created_at,
            updated_at=message.created_at if message is not None else conversation.updated_at,
            last_message=(
                LastMessage(
                    role=message.role,
                    preview=_preview(message.content),
                    created_at=message.created_at,
                )
                if message is not None
                else None
            ),
        )
        for conversation, message in rows
    ]
    return Page(items=items, total=int(total or 0), limit=params.limit, offset=params.offset)


@router.get(
    "/{conversation_id}/messages", operation_id="list_conversation_messages", responses={404: {}}
)
async def list_messages(
    conversation_id: Id, user: CurrentUser, session: SessionDep, params: ListParams
) -> Page[MessageOut]:
    """One of your conversations' messages, oldest first."""
    found = await session.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id, Conversation.user_id == user.id
        )
    )
    if found is None:
        raise NotFound(f"there is no conversation {conversation_id}")
    stmt = order_by(
        select(Message).where(Message.conversation_id == conversation_id),
        params.sort,
        {"id": Message.id, "created_at": Message.created_at},
        "id",
        Message.id,
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[MessageOut.model_validate(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/{conversation_id}/files", operation_id="list_conversation_files", responses={404: {}})
async def list_files(
    conversation_id: Id, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> ScratchFilesOut:
    """The working files Angie and her agents keep for one of your conversations (read only)."""
    found = await session.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id, Conversation.user_id == user.id
        )
    )
    if found is None:
        raise NotFound(f"there is no conversation {conversation_id}")
    files = await services.scratch.list(conversation_id)
    return ScratchFilesOut(
        items=[ScratchFileOut(name=f.key, size=f.size, modified=f.modified) for f in files],
        used_bytes=sum(f.size for f in files),
        max_bytes=services.scratch.max_bytes,
    )
