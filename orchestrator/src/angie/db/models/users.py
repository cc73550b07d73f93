"""People and the identities they use on each channel: one person is one user everywhere."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from angie.db.base import Base, TimestampMixin, str_enum, utcnow

__all__ = ("ChannelIdentity", "ChannelKind", "User")


class ChannelKind(StrEnum):
    WEB = "web"
    CLI = "cli"
    API = "api"
    SLACK = "slack"
    DISCORD = "discord"
    IMESSAGE = "imessage"
    EMAIL = "email"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # How Angie addresses the person ("Sam", "Dr. Lee"); filled in by `angie setup`.
    preferred_name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    last_login_at: Mapped[datetime | None]

    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index(None, "user_id", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    # The platform's own id: a Slack member id, a Discord snowflake, a phone number, an address.
    external_id: Mapped[str] = mapped_column(String(320))
    display: Mapped[str | None] = mapped_column(String(255))
    verified: Mapped[bool] = mapped_column(default=False)
    # The channel settings (whose adapter) the person was linked through, and the thread where
    # Angie reaches them first (a Slack DM, an iMessage chat, "to:<address>").
    setting_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_settings.id", ondelete="SET NULL")
    )
    home_thread: Mapped[str | None] = mapped_column(String(255))
    # Where cron and webhook results go (one per person).
    preferred: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")
