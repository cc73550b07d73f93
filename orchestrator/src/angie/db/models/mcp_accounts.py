"""Each person's own accounts on personal MCP servers (their Gmail, their calendar), and whom
they share each with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from angie.db.base import Base, TimestampMixin, str_enum

__all__ = ("AccountStatus", "McpAccount", "McpAccountShare")


class AccountStatus(StrEnum):
    """``connected``: its server signed in and its token file is in the account's directory."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class McpAccount(TimestampMixin, Base):
    """One person's sign-in on one personal server. Angie keeps no token here: the server's own
    encrypted token file lives in ``state_dir``, and only the instance started for this account
    is pointed at it."""

    __tablename__ = "mcp_accounts"
    __table_args__ = (UniqueConstraint("user_id", "server", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    server: Mapped[str] = mapped_column(String(64), index=True)
    # What the person calls it: the address, "work", "family calendar".
    label: Mapped[str] = mapped_column(String(120))
    state_dir: Mapped[str] = mapped_column(String(1024))
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus, "mcp_account_status"), default=AccountStatus.CONNECTED
    )
    # When the sign-in stops working unless renewed, as the server's status last said (Google's
    # 7-day limit for apps in Testing), and the expiry the person was last warned about.
    sign_in_expires_at: Mapped[datetime | None]
    expiry_warned_for: Mapped[datetime | None]

    shares: Mapped[list[McpAccountShare]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class McpAccountShare(Base):
    """``user_id`` may use ``account_id``'s tools in their own runs (a family calendar)."""

    __tablename__ = "mcp_account_shares"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("mcp_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
