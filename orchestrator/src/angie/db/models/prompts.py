"""Versioned prompts: SYSTEM, ANGIE and AGENT for the household, USER documents per person."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import LONG_TEXT, Base, OwnedMixin, str_enum, utcnow

__all__ = ("Prompt", "PromptKind")


class PromptKind(StrEnum):
    SYSTEM = "system"
    ANGIE = "angie"
    AGENT = "agent"
    USER = "user"


class Prompt(OwnedMixin, Base):
    """One version of one prompt document; the highest version of a name is the current one.

    ``name`` is "system" or "angie" for those kinds, the agent's name for AGENT prompts and the
    document's name (e.g. "profile", "preferences") for a user's USER_PROMPTS.
    """

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("kind", "owner_key", "name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PromptKind] = mapped_column(str_enum(PromptKind, "prompt_kind"))
    name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    body: Mapped[str] = mapped_column(LONG_TEXT)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(Prompt, "before_insert")
@event.listens_for(Prompt, "before_update")
def _user_prompts_have_a_user(_mapper: object, _connection: object, target: Prompt) -> None:
    # Not a CHECK: MySQL 8 refuses one on user_id, which ON DELETE CASCADE changes.
    if target.kind is PromptKind.USER and target.user_id is None:
        raise ValueError("a USER prompt belongs to a user: set user_id")
