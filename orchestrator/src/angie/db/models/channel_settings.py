"""Per-person settings of each chat channel; their secrets live in ``credentials``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, TimestampMixin, str_enum
from angie.db.models.users import ChannelKind

__all__ = ("ChannelSetting",)


class ChannelSetting(TimestampMixin, Base):
    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("user_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "setting_channel"))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Non-secret configuration (a default Slack channel, an IMAP host); secrets are
    # credentials named "channel.<kind>.<field>".
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
