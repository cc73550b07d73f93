"""Plans: a request Angie split into steps (each an agent's or team's call, some after others),
shown to the person before it starts and run step by step as child tasks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import JSON_TYPE, Base, str_enum, utcnow

__all__ = ("Plan", "PlanStatus")


class PlanStatus(StrEnum):
    # Proposed: waiting for the person to approve it; nothing has started.
    PROPOSED = "proposed"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    # A step failed: the steps after it did not run (Angie may propose a new plan).
    FAILED = "failed"
    # The person said no: nothing of it ran.
    DENIED = "denied"


class Plan(Base):
    __tablename__ = "plans"
    # One plan per tool call of the run that made it: a resumed run finds its plan again.
    __table_args__ = (UniqueConstraint("task_id", "tool_call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    tool_call_id: Mapped[str] = mapped_column(String(255))
    goal: Mapped[str] = mapped_column(Text)
    status: Mapped[PlanStatus] = mapped_column(
        str_enum(PlanStatus, "plan_status"), default=PlanStatus.PROPOSED
    )
    # In the order they run: {"name", "ask", "request", "after", "status", "task_id"}.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON_TYPE, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
