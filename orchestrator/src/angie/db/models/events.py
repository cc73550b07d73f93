"""Events: everything that happens to Angie (a message, a cron tick, a webhook, an API call)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, str_enum, utcnow
from angie.db.models.users import ChannelKind

__all__ = ("Event", "EventStatus", "EventType")


class EventType(StrEnum):
    MESSAGE = "message"
    CRON = "cron"
    WEBHOOK = "webhook"
    API = "api"
    SYSTEM = "system"


class EventStatus(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    IGNORED = "ignored"
    FAILED = "failed"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index(None, "user_id", "created_at"),
        Index(None, "status", "created_at"),
        Index(None, "type", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[EventType] = mapped_column(str_enum(EventType, "event_type"))
    # Who emitted it: "slack", "scheduler:<schedule id>", "hook:<hook id>", "api".
    source: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[ChannelKind | None] = mapped_column(str_enum(ChannelKind, "event_channel"))
    thread: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[EventStatus] = mapped_column(
        str_enum(EventStatus, "event_status"), default=EventStatus.RECEIVED
    )
    # A delivery id (webhook id, platform message id): the same event delivered twice is one row.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
