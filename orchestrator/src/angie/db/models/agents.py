"""Agents (an AGENT_PROMPT over some MCP servers' tools) and teams (bundles of agents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from angie.db.base import JSON_TYPE, LONG_TEXT, Base, TimestampMixin, utcnow
from angie.db.models.mcp import McpServer

__all__ = ("Agent", "AgentServer", "Team", "TeamMember")


class Agent(TimestampMixin, Base):
    """Agents are shared by the household; names are unique because Angie delegates by name."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The AGENT_PROMPT, composed after SYSTEM and ANGIE.
    prompt: Mapped[str] = mapped_column(LONG_TEXT, default="")
    # Glob patterns over prefixed tool names ("hue_*", "!hue_pair"); empty means every tool.
    tool_filter: Mapped[list[str]] = mapped_column(default=list)
    model: Mapped[str | None] = mapped_column(String(255))
    # Its own per-run limits ({"model_requests", "tool_calls", "tokens", "seconds"}); None: Angie's.
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)
    enabled: Mapped[bool] = mapped_column(default=True, index=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    # The owner; none: the household's (see angie.access).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    servers: Mapped[list[McpServer]] = relationship(secondary="agent_servers", lazy="selectin")


class AgentServer(Base):
    __tablename__ = "agent_servers"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    server_id: Mapped[int] = mapped_column(
        ForeignKey("mcp_servers.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Team(TimestampMixin, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    prompt: Mapped[str] = mapped_column(Text, default="")
    # Applied to the combined tool sets of the members.
    tool_filter: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    # The owner; none: the household's (see angie.access).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TeamMember.position",
        lazy="selectin",
    )


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "position"),
        CheckConstraint("position >= 0", name="position_not_negative"),
    )

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(back_populates="members")
    agent: Mapped[Agent] = relationship(lazy="joined")
