"""The MCP servers Angie knows: how each is reached, whether it is on, its approval policy."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, TimestampMixin, str_enum

__all__ = ("ApprovalMode", "ContentTrust", "McpServer", "McpTransport", "ServerHealth")


class McpTransport(StrEnum):
    STDIO = "stdio"
    HTTP = "http"


class ServerHealth(StrEnum):
    UNKNOWN = "unknown"
    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    STOPPED = "stopped"


class ApprovalMode(StrEnum):
    """What happens when a tool is called: the default follows the tool's annotations."""

    AUTO = "auto"
    ALLOW = "allow"
    ASK = "ask"
    NEVER = "never"


class ContentTrust(StrEnum):
    """Whether a server's tool outputs carry only what the household wrote (lights, music) or
    also text written by others (mail, issues, web pages, invitations)."""

    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"


class McpServer(TimestampMixin, Base):
    __tablename__ = "mcp_servers"
    __table_args__ = (
        CheckConstraint(
            "(transport = 'stdio' AND command IS NOT NULL)"
            " OR (transport = 'http' AND url IS NOT NULL)",
            name="reachable",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    transport: Mapped[McpTransport] = mapped_column(str_enum(McpTransport, "mcp_transport"))
    # stdio: the argv to start it; http: the streamable HTTP endpoint.
    command: Mapped[list[str] | None]
    url: Mapped[str | None] = mapped_column(String(2048))
    # Names of environment variables passed to the server's process, never their values.
    env_keys: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(default=True, index=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    approval_mode: Mapped[ApprovalMode] = mapped_column(
        str_enum(ApprovalMode, "approval_mode"), default=ApprovalMode.AUTO
    )
    # An admin's choice; None follows the server's manifest (untrusted for third-party servers).
    content_trust: Mapped[ContentTrust | None] = mapped_column(
        str_enum(ContentTrust, "content_trust")
    )
    # Per-tool overrides: {"tool_name": "allow" | "ask" | "never"}.
    tool_policies: Mapped[dict[str, Any]] = mapped_column(default=dict)
    health: Mapped[ServerHealth] = mapped_column(
        str_enum(ServerHealth, "server_health"), default=ServerHealth.UNKNOWN
    )
    last_health_at: Mapped[datetime | None]
    # A household-wide sign-in's expiry, as the server's status last said, and the expiry the
    # admins were last warned about (a person's own accounts keep theirs on mcp_accounts).
    sign_in_expires_at: Mapped[datetime | None]
    expiry_warned_for: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
