"""Tasks (units of work on the queue), the tool calls they made and the approvals they wait on."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from angie.db.base import JSON_TYPE, Base, TimestampMixin, str_enum, utcnow
from angie.db.models.users import ChannelKind

__all__ = (
    "DELEGATIONS",
    "Approval",
    "ApprovalStatus",
    "Task",
    "TaskKind",
    "TaskStatus",
    "ToolCall",
    "ToolCallOutcome",
)


class TaskKind(StrEnum):
    CHAT = "chat"
    AGENT = "agent"
    TEAM = "team"
    WORKFLOW = "workflow"
    WORKFLOW_STEP = "workflow_step"
    TOOL = "tool"


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        Index(None, "status", "created_at"),
        Index(None, "user_id", "created_at"),
        Index(None, "user_id", "status"),
        # The API lists a person's top-level tasks (parent_id IS NULL) newest first.
        Index(None, "user_id", "parent_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind, "task_kind"))
    status: Mapped[TaskStatus] = mapped_column(
        str_enum(TaskStatus, "task_status"), default=TaskStatus.QUEUED
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    # What runs it: one of these for agent, team, workflow and step tasks; none for chat.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    workflow_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="SET NULL"), index=True
    )
    workflow_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("workflow_steps.id", ondelete="SET NULL")
    )
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[Any | None] = mapped_column(JSON_TYPE)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    # Set by whoever creates the task; a redelivered or re-submitted task never runs twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Where the answer goes back to.
    channel: Mapped[ChannelKind | None] = mapped_column(str_enum(ChannelKind, "task_channel"))
    thread: Mapped[str | None] = mapped_column(String(255))
    # The serialized pydantic-ai message history of a run suspended for approval.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)
    # What outside content the task's run read (or was started by), e.g. "github.get_issue":
    # from then on its side effects wait for the person, and so do its delegations'.
    tainted_by: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # What its runs used of the language model, summed over its runs (resumptions included);
    # the cost only where the model's price is known.
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))

    children: Mapped[list[Task]] = relationship(
        back_populates="parent", cascade="all, delete-orphan", passive_deletes=True
    )
    parent: Mapped[Task | None] = relationship(back_populates="children", remote_side=[id])
    tool_calls: Mapped[list[ToolCall]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True
    )


class ToolCallOutcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    DENIED = "denied"
    AWAITING_APPROVAL = "awaiting_approval"


# The audit trail's "server" of Angie's own ask_<agent> tools: handing work to an agent or team.
DELEGATIONS = "angie"


class ToolCall(Base):
    """The audit trail: every MCP tool call a task made, with its arguments redacted."""

    __tablename__ = "tool_calls"
    __table_args__ = (
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_not_negative"),
        Index(None, "server", "tool", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    server: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(128))
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[ToolCallOutcome] = mapped_column(str_enum(ToolCallOutcome, "tool_call_outcome"))
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None]
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    task: Mapped[Task] = relationship(back_populates="tool_calls")


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


class Approval(Base):
    """A side-effecting call waiting for the user, bound to a hash of its exact arguments."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("task_id", "tool_call_id"),
        Index(None, "status", "expires_at"),
        Index(None, "user_id", "status"),
        CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL) OR status <> 'pending'",
            name="pending_undecided",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The model's id for the call, used to resume the suspended run.
    tool_call_id: Mapped[str] = mapped_column(String(128))
    server: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the canonical JSON of the arguments: approval is for exactly these.
    args_hash: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ApprovalStatus] = mapped_column(
        str_enum(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    reason: Mapped[str | None] = mapped_column(String(1000))
    # Why Angie asks when her policy alone would not have (a loop, outside content read).
    asked_because: Mapped[str | None] = mapped_column(String(1000))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
