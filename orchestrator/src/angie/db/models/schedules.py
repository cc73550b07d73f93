"""Schedules: a user's crons. Each tick only emits a cron event; the router does the rest."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, TimestampMixin, str_enum

__all__ = ("MisfirePolicy", "Schedule")


class MisfirePolicy(StrEnum):
    """What a tick missed while Angie was down does: run once if late within the grace, or not."""

    RUN_ONCE = "run_once"
    SKIP = "skip"


class Schedule(TimestampMixin, Base):
    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        CheckConstraint("misfire_grace_seconds >= 0", name="grace_not_negative"),
        CheckConstraint(
            "(agent_id IS NOT NULL) + (team_id IS NOT NULL) + (workflow_id IS NOT NULL) <= 1",
            name="at_most_one_target",
        ),
        Index(None, "enabled", "next_run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    # A standard 5-field crontab, with cron's own day-of-week numbering (0 and 7 = Sunday).
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Who runs it; none of the three means Angie herself handles the instruction. RESTRICT:
    # what a schedule still runs cannot be deleted from under it (and MySQL 8 allows the CHECK).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="RESTRICT"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="RESTRICT"))
    instruction: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    misfire_policy: Mapped[MisfirePolicy] = mapped_column(
        str_enum(MisfirePolicy, "misfire_policy"), default=MisfirePolicy.RUN_ONCE
    )
    misfire_grace_seconds: Mapped[int] = mapped_column(default=3600)
    last_run_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
