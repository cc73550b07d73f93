"""Workflows: ordered steps, each run by an agent or a team, passing outputs forward."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from angie.db.base import Base, OwnedMixin, TimestampMixin, str_enum

__all__ = ("OnFailure", "Workflow", "WorkflowStep")


class OnFailure(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"
    RETRY = "retry"


class Workflow(OwnedMixin, TimestampMixin, Base):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("owner_key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(default=True)

    steps: Mapped[list[WorkflowStep]] = relationship(
        back_populates="workflow",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WorkflowStep.position",
        lazy="selectin",
    )


class WorkflowStep(Base):
    __tablename__ = "workflow_steps"
    __table_args__ = (
        UniqueConstraint("workflow_id", "position"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("max_retries >= 0", name="max_retries_not_negative"),
        CheckConstraint(
            "(agent_id IS NOT NULL AND team_id IS NULL)"
            " OR (agent_id IS NULL AND team_id IS NOT NULL)",
            name="one_runner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    # RESTRICT: an agent or team a workflow still uses cannot be deleted from under it.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="RESTRICT"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="RESTRICT"), index=True
    )
    # A Jinja2 template over the triggering event and the earlier steps' outputs.
    instruction: Mapped[str] = mapped_column(Text)
    on_failure: Mapped[OnFailure] = mapped_column(
        str_enum(OnFailure, "on_failure"), default=OnFailure.STOP
    )
    max_retries: Mapped[int] = mapped_column(default=0)

    workflow: Mapped[Workflow] = relationship(back_populates="steps")
