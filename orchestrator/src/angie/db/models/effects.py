"""The effects journal: each side-effecting tool call of a task, journaled as an intent before
it goes out and with its result once it has come back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import JSON_TYPE, Base, utcnow

__all__ = ("EffectState", "TaskEffect")


class EffectState(StrEnum):
    # The call went out and no answer was journaled: if Angie died meanwhile, the effect may
    # or may not have happened.
    PENDING = "pending"
    DONE = "done"


class TaskEffect(Base):
    __tablename__ = "task_effects"
    __table_args__ = (UniqueConstraint("task_id", "tool", "args_hash", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    # The prefixed tool name ("hue_set_light").
    tool: Mapped[str] = mapped_column(String(200))
    args_hash: Mapped[str] = mapped_column(String(64))
    # The n-th identical call within the task (0 for the first).
    sequence: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(
        String(16), default=EffectState.DONE, server_default=EffectState.DONE.value
    )
    result: Mapped[Any | None] = mapped_column(JSON_TYPE)
    # When the call (or its latest repeat) went out; None for effects journaled before 0008.
    started_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
