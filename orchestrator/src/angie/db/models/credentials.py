"""Secrets the orchestrator itself needs (chat platform tokens, webhook secrets), encrypted.

Integration credentials never come here: each MCP server keeps its own.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, OwnedMixin, TimestampMixin

__all__ = ("Credential",)


class Credential(OwnedMixin, TimestampMixin, Base):
    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("owner_key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "slack.bot_token", "hook.github.secret", …
    name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # A Fernet token (see angie.db.crypto); the plaintext is never stored or logged.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
