"""Turn a message's reasons into a score from 0 to 100 and a verdict, with the person's lists
and sender history taking part."""

from __future__ import annotations

from angie_mcp_spam.content import content_reasons
from angie_mcp_spam.message import ParsedMessage
from angie_mcp_spam.models import Reason, Score, Verdict
from angie_mcp_spam.signals import Context, header_reasons, link_reasons

__all__ = ("BASE", "reasons", "score", "verdict")

#: Where every message starts: unknown mail leans to wanted until a signal says otherwise.
BASE = 30


def _history_reasons(context: Context) -> list[Reason]:
    out: list[Reason] = []
    if context.spam_marks:
        out.append(
            Reason(
                code="sender_marked_spam",
                weight=min(40, 20 * context.spam_marks),
                detail=f"You marked {context.spam_marks} earlier message(s) from this "
                "sender as spam.",
            )
        )
    if context.ham_marks:
        out.append(
            Reason(
                code="sender_marked_ham",
                weight=-min(25, 10 * context.ham_marks),
                detail=f"You marked {context.ham_marks} earlier message(s) from this "
                "sender as wanted.",
            )
        )
    return out


def reasons(message: ParsedMessage, context: Context) -> list[Reason]:
    """Every reason, strongest first; a listed sender's list entry decides alone."""
    if context.blocked:
        found = [
            Reason(
                code="block_list",
                weight=100,
                detail=f"The sender is on your block list ({context.blocked}).",
            )
        ]
    elif context.allowed:
        found = [
            Reason(
                code="allow_list",
                weight=-100,
                detail=f"The sender is on your allow list ({context.allowed}).",
            )
        ]
    else:
        found = [
            *header_reasons(message, context),
            *link_reasons(message, context),
            *content_reasons(message),
            *_history_reasons(context),
        ]
    return sorted(found, key=lambda r: -abs(r.weight))


def verdict(points: int, spam_threshold: int, suspicious_threshold: int) -> Verdict:
    if points >= spam_threshold:
        return "spam"
    if points >= suspicious_threshold:
        return "suspicious"
    return "ham"


def score(
    message: ParsedMessage,
    context: Context,
    *,
    id: str | None,
    spam_threshold: int,
    suspicious_threshold: int,
) -> Score:
    found = reasons(message, context)
    points = max(0, min(100, BASE + sum(r.weight for r in found)))
    return Score(
        id=id,
        message_id=message.message_id,
        sender=message.sender,
        subject=message.subject or None,
        score=points,
        verdict=verdict(points, spam_threshold, suspicious_threshold),
        bulk=any(r.code in ("list_unsubscribe", "precedence_bulk") for r in found)
        or bool(message.header("list-unsubscribe") or message.header("list-id")),
        reasons=found,
    )
