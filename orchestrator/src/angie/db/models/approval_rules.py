"""A person's own approval rules: tools Angie may use for them without asking, or must always
ask about, on top of the household's policy (which they can loosen but never past a "never")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from angie.db.base import Base, str_enum, utcnow

__all__ = ("ApprovalRule", "RuleDecision", "RuleSource")


class RuleDecision(StrEnum):
    ALLOW = "allow"
    ASK = "ask"


class RuleSource(StrEnum):
    # Derived from the setup interview's autonomy answers; replaced when setup runs again.
    SETUP = "setup"
    # Written by the person; setup leaves it alone.
    PERSON = "person"


class ApprovalRule(Base):
    __tablename__ = "approval_rules"
    __table_args__ = (UniqueConstraint("user_id", "pattern"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A glob over prefixed tool names (hue_set_light, *_send_*) or kind:destructive|changes.
    pattern: Mapped[str] = mapped_column(String(120))
    decision: Mapped[RuleDecision] = mapped_column(str_enum(RuleDecision, "rule_decision"))
    source: Mapped[RuleSource] = mapped_column(
        str_enum(RuleSource, "rule_source"), default=RuleSource.PERSON
    )
    # The setup answer the rule came from ("lights"), shown back and cited when it asks.
    phrase: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
