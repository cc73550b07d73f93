"""Slack's events and Block Kit in Angie's terms: ids, inbound messages, decisions, approval blocks.

Ids are the adapter's own strings: a message is ``"T1:C2:1712.0001"``, a sender ``"T1:U2"``, a
thread ``"C2:1712.0001"`` (the channel and the ts of the thread's first message) or a bare
channel (``"C2"``, ``"#angie"``) for a message at top level.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from angie_channels.base import Decision, Inbound, Sender

__all__ = (
    "APPROVE",
    "DENY",
    "Place",
    "approval_blocks",
    "decided_blocks",
    "decision_from",
    "escaped",
    "inbound_from",
    "question_of",
    "readable",
    "user_of",
)

APPROVE = "angie_approve"
DENY = "angie_deny"
# Slack refuses a section whose text is longer (invalid_blocks).
_SECTION_LIMIT = 3000


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message goes: a channel and, for a reply, the ts of the thread's first message."""

    channel: str
    thread_ts: str | None = None

    @classmethod
    def parse(cls, thread: str) -> Place:
        channel, _, ts = thread.partition(":")
        return cls(channel, ts or None)

    def thread(self, ts: str) -> str:
        """The thread id of a message ``ts`` posted here (it starts a thread at top level)."""
        return f"{self.channel}:{self.thread_ts or ts}"


def user_of(sender_id: str) -> str:
    """Slack's user id in Angie's sender id (``"T1:U2"`` → ``"U2"``)."""
    return sender_id.rpartition(":")[2]


def inbound_from(event: Mapping[str, Any], team: str, bot_user: str | None) -> Inbound | None:
    """A direct message or an @-mention of Angie as an :class:`Inbound`; anything else (edits,
    joins, bots, her own messages, channel chatter) is ``None``."""
    kind = event.get("type")
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)):
        return None
    if event.get("subtype") or event.get("bot_id") or user == bot_user:
        return None
    if kind == "message" and event.get("channel_type") == "im":
        direct = True
    elif kind == "app_mention":
        direct = False
    else:
        return None
    text = str(event.get("text") or "")
    if bot_user:
        text = re.sub(rf"<@{re.escape(bot_user)}(\|[^>]*)?> ?", "", text)
    thread_ts = event.get("thread_ts")
    return Inbound(
        message_id=f"{team}:{channel}:{ts}",
        sender=Sender(f"{team}:{user}"),
        thread=f"{channel}:{thread_ts if isinstance(thread_ts, str) else ts}",
        text=readable(text).strip(),
        direct=direct,
    )


def readable(text: str) -> str:
    """Slack's message text as a person reads it: links as ``label (url)``, ``&lt;`` as ``<``;
    mentions of people (``<@U2>``) stay, so Angie can mention them back."""
    text = re.sub(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>", _link, text)
    text = re.sub(r"<((?:https?|mailto):[^>]+)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(match: re.Match[str]) -> str:
    url, label = match.groups()
    address = url.removeprefix("mailto:")
    return label if label == address else f"{label} ({address})"


def escaped(text: str) -> str:
    """Angie's text as Slack wants it: ``&``, ``<`` and ``>`` escaped so none is taken for markup
    (a ``<`` would otherwise start a link or a mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def decision_from(body: Mapping[str, Any]) -> tuple[Decision, Place, str] | None:
    """A press of Approve or Deny (a ``block_actions`` payload) as a :class:`Decision`, with the
    place and ts of the approval message it was on."""
    actions = body.get("actions") or []
    action = actions[0] if actions else {}
    user = body.get("user") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    team = (body.get("team") or {}).get("id") or user.get("team_id")
    ts = message.get("ts")
    if action.get("action_id") not in (APPROVE, DENY) or not (
        isinstance(user.get("id"), str) and isinstance(channel, str) and isinstance(ts, str)
    ):
        return None
    place = Place(channel, message.get("thread_ts") or ts)
    decision = Decision(
        sender=Sender(f"{team}:{user['id']}", name=user.get("name") or user.get("username")),
        thread=place.thread(ts),
        approve=action["action_id"] == APPROVE,
        ref=action.get("value"),
        message_id=f"{team}:{channel}:{action.get('action_ts') or ts}",
    )
    return decision, place, ts


def _section(text: str) -> dict[str, Any]:
    if len(text) > _SECTION_LIMIT:
        text = text[: _SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def approval_blocks(text: str, ref: str) -> list[dict[str, Any]]:
    """The question, then Approve (primary) and Deny (danger) buttons that carry ``ref``."""

    def button(label: str, action_id: str, style: str) -> dict[str, Any]:
        return {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label},
            "style": style,
            "value": ref,
        }

    return [
        _section(text),
        {
            "type": "actions",
            "block_id": "angie_approval",
            "elements": [button("Approve", APPROVE, "primary"), button("Deny", DENY, "danger")],
        },
    ]


def decided_blocks(question: str | None, outcome: str) -> list[dict[str, Any]]:
    """The approval message once decided: the question (if known) and the outcome, no buttons."""
    if not question:
        return [_section(outcome)]
    outcome = outcome[:_SECTION_LIMIT]
    return [
        _section(question),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": outcome}]},
    ]


def question_of(message: Mapping[str, Any]) -> str | None:
    """The question an approval message asked (its first section's text)."""
    for block in message.get("blocks") or []:
        if block.get("type") == "section":
            text = (block.get("text") or {}).get("text")
            return text if isinstance(text, str) else None
    return None
