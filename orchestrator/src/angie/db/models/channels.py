"""What Angie's chat channels keep: pairing codes for senders she does not know yet, and the
delivery ledger every outbound message is written to before it is sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import LONG_TEXT, Base, str_enum, utcnow
from angie.db.models.users import ChannelKind

__all__ = ("ChannelDelivery", "ChannelPairing", "DeliveryState", "OutboundKind")


class ChannelPairing(Base):
    """A sender Angie does not know: the code they were given, to confirm with
    ``angie channels link CODE`` while signed in as themselves."""

    __tablename__ = "channel_pairings"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "pairing_channel"))
    external_id: Mapped[str] = mapped_column(String(320))
    display: Mapped[str | None] = mapped_column(String(255))
    # The channel settings (whose adapter) the sender wrote through, and where to answer them.
    setting_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_settings.id", ondelete="CASCADE")
    )
    home_thread: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the code: a leaked database does not hand out links.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting to go (or to go again, at next_attempt_at)
    SENDING = "sending"  # claimed by the sender; the platform has it or is about to
    SENT = "sent"
    FAILED = "failed"  # will not be tried again; error says why


class OutboundKind(StrEnum):
    MESSAGE = "message"
    APPROVAL = "approval"  # asks with buttons (or a reply code)
    DECISION = "decision"  # shows how an approval was decided


class ChannelDelivery(Base):
    """One outbound message, written before it is sent: sent at most once per row, retried
    with backoff while the platform is away, never lost."""

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        Index(None, "state", "next_attempt_at"),
        Index(None, "setting_id", "state"),
        Index(None, "channel", "reply_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "delivery_channel"))
    # Whose adapter sends it (the channel settings it goes through).
    setting_id: Mapped[int] = mapped_column(ForeignKey("channel_settings.id", ondelete="CASCADE"))
    # The adapter's own thread id (Angie's thread without the settings prefix).
    thread: Mapped[str] = mapped_column(String(255))
    kind: Mapped[OutboundKind] = mapped_column(str_enum(OutboundKind, "outbound_kind"))
    text: Mapped[str] = mapped_column(LONG_TEXT)
    # The platform id of whom to @-mention.
    mention: Mapped[str | None] = mapped_column(String(320))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id", ondelete="CASCADE"))
    # The one-time code a person replies with on channels without buttons ("yes 4821").
    reply_code: Mapped[str | None] = mapped_column(String(8))
    # For a decision: the approval request message to update.
    updates_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_deliveries.id", ondelete="SET NULL")
    )
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    platform_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
