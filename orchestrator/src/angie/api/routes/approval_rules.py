"""``/api/me/approval-rules``: the person's own approval rules (what Angie may do for them
without asking, what she always asks about first), made by ``angie setup`` or written here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AfterValidator, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie import onboarding
from angie.agents.rules import check_pattern, derive_from
from angie.api.deps import CurrentUser, SessionDep, UserPromptsDep
from angie.api.schemas import Body, Out
from angie.api.validation import PathId
from angie.db.models import ApprovalRule, RuleDecision, RuleSource, User
from angie.errors import Conflict, NotFound

__all__ = ("ApprovalRuleOut", "ApprovalRulesOut", "router")

router = APIRouter(prefix="/me/approval-rules", tags=["me"])

Pattern = Annotated[
    str,
    Field(
        min_length=1,
        max_length=120,
        description="A glob over prefixed tool names (hue_set_light, *_send_*), or "
        "kind:destructive or kind:changes.",
    ),
    AfterValidator(check_pattern),
]


class ApprovalRuleIn(Body):
    pattern: Pattern
    decision: RuleDecision = Field(
        description="allow: Angie goes ahead without asking you (where the household's policy "
        "would ask); ask: she asks you first. The household's never always holds."
    )


class ApprovalRuleOut(Out):
    id: int
    pattern: str
    decision: RuleDecision
    source: RuleSource = Field(description="setup: made from your setup answers; person: yours.")
    phrase: str | None = Field(description="The setup answer the rule came from.")
    created_at: datetime


class ApprovalRulesOut(Out):
    rules: list[ApprovalRuleOut]
    unused_answers: dict[str, str] = Field(
        description="Autonomy answers from setup that made no rule, and why."
    )


async def _owned(session: AsyncSession, rule_id: int, user: User) -> ApprovalRule:
    row = await session.get(ApprovalRule, rule_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"there is no approval rule {rule_id}")
    return row


async def _unique(session: AsyncSession, user: User, pattern: str, rule_id: int | None) -> None:
    taken = await session.scalar(
        select(ApprovalRule.id).where(
            ApprovalRule.user_id == user.id,
            ApprovalRule.pattern == pattern,
            ApprovalRule.id != (rule_id or 0),
        )
    )
    if taken is not None:
        raise Conflict(f"you already have a rule for {pattern!r} (rule {taken})")


@router.get("", operation_id="list_approval_rules")
async def list_approval_rules(
    user: CurrentUser, session: SessionDep, user_prompts: UserPromptsDep
) -> ApprovalRulesOut:
    """Your approval rules, oldest first, and the setup answers that made none."""
    rows = await session.scalars(
        select(ApprovalRule).where(ApprovalRule.user_id == user.id).order_by(ApprovalRule.id)
    )
    autonomy = await user_prompts.get(user.id, "autonomy")
    answers = onboarding.stored(autonomy.body) if autonomy is not None else {}
    return ApprovalRulesOut(
        rules=[ApprovalRuleOut.model_validate(row) for row in rows],
        unused_answers=derive_from(answers).unused,
    )


@router.post(
    "", operation_id="add_approval_rule", status_code=status.HTTP_201_CREATED, responses={409: {}}
)
async def add_approval_rule(
    body: ApprovalRuleIn, user: CurrentUser, session: SessionDep
) -> ApprovalRuleOut:
    """Add a rule of your own; setup leaves it alone when it runs again."""
    await _unique(session, user, body.pattern, None)
    row = ApprovalRule(
        user_id=user.id, pattern=body.pattern, decision=body.decision, source=RuleSource.PERSON
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return ApprovalRuleOut.model_validate(row)


@router.put("/{rule_id}", operation_id="save_approval_rule", responses={404: {}, 409: {}})
async def save_approval_rule(
    rule_id: PathId, body: ApprovalRuleIn, user: CurrentUser, session: SessionDep
) -> ApprovalRuleOut:
    """Change one of your rules; it becomes your own, so setup no longer replaces it."""
    row = await _owned(session, rule_id, user)
    await _unique(session, user, body.pattern, rule_id)
    row.pattern, row.decision, row.source = body.pattern, body.decision, RuleSource.PERSON
    await session.flush()
    await session.refresh(row)
    return ApprovalRuleOut.model_validate(row)


@router.delete(
    "/{rule_id}", operation_id="delete_approval_rule", status_code=204, responses={404: {}}
)
async def delete_approval_rule(rule_id: PathId, user: CurrentUser, session: SessionDep) -> None:
    """Delete one of your rules; the household's policy decides again."""
    await session.delete(await _owned(session, rule_id, user))
