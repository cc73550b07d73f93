"""The effects journal: what each side-effecting tool call of a task returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import JSON_TYPE, Base, utcnow

__all__ = ("TaskEffect",)


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
    result: Mapped[Any | None] = mapped_column(JSON_TYPE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
