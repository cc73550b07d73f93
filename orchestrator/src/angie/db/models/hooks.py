"""Webhooks: an address per hook, a secret that signs its deliveries, and what it runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, TimestampMixin

__all__ = ("Webhook",)


class Webhook(TimestampMixin, Base):
    __tablename__ = "webhooks"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public, unguessable id in the URL: POST /api/hooks/{hook_id}.
    hook_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The HMAC key, encrypted with the credentials box; shown to its owner once, at creation.
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Who handles a delivery; none means Angie herself.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"))
    instruction: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    last_delivery_at: Mapped[datetime | None]
