"""What Slack sends an app, built as Slack builds it: events, button presses, signatures.

:class:`SlackPayloads` is the half of the fake Slack (``slack_platform.FakeSlack``) that makes
these; a test uses it to build signed HTTP requests for an adapter's ``webhook``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ("Post", "SignedRequest", "SlackPayloads", "valid_blocks")


@dataclass(slots=True)
class Post:
    """A message the bot posted (``chat.postMessage``), as it now stands after updates."""

    channel: str
    ts: str
    text: str | None
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """An HTTP request as Slack would send it to the app's Request URL."""

    headers: Mapping[str, str]
    body: bytes


class SlackPayloads:
    """Payloads from the workspace ``team_id`` to the app whose bot user is ``bot_user``."""

    team_id: str
    team: str
    bot_user: str
    bot_id: str
    signing_secret: str
    _ts: itertools.count[int]

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def dm_event(self, user: str, text: str, *, channel: str = "D0SAM") -> dict[str, Any]:
        return {
            "type": "message",
            "channel": channel,
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": self.new_ts(),
            "team": self.team_id,
        }

    def mention_event(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "app_mention",
            "channel": channel,
            "user": user,
            "text": f"<@{self.bot_user}> {text}",
            "ts": self.new_ts(),
            "team": self.team_id,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return event

    def click_payload(self, user: str, message: Post, action: str) -> dict[str, Any]:
        """The ``block_actions`` payload of ``user`` pressing ``action`` on ``message``."""
        button = next(
            (
                element
                for block in message.blocks or []
                if block.get("type") == "actions"
                for element in block.get("elements", [])
                if element.get("action_id") == action
            ),
            None,
        )
        if button is None:
            raise AssertionError(f"no button {action!r} on the message {message.ts}")
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "A111",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{time.time()}.trigger",
            "team": {"id": self.team_id, "domain": self.team.lower()},
            "channel": {"id": message.channel, "name": "angie"},
            "message": {
                "type": "message",
                "user": self.bot_user,
                "bot_id": self.bot_id,
                "text": message.text,
                "ts": message.ts,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
                "blocks": message.blocks,
            },
            "response_url": f"https://hooks.slack.com/actions/{self.team_id}/1/fake",
            "actions": [
                {
                    "action_id": action,
                    "block_id": button.get("block_id", "b"),
                    "text": button["text"],
                    "value": button.get("value"),
                    "style": button.get("style"),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    def event_callback(self, event: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A111",
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user, "is_bot": True}],
        }

    def sign(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Slack's signature headers for ``body`` (v0, HMAC-SHA256 of ``v0:ts:body``)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        key = (secret or self.signing_secret).encode()
        digest = hmac.new(key, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    def signed_event(self, event: Mapping[str, Any], **signing: Any) -> SignedRequest:
        """A signed Events API request carrying ``event`` (``timestamp=``, ``secret=`` forge it)."""
        return self.signed_json(self.event_callback(event), **signing)

    def signed_json(self, body: Mapping[str, Any], **signing: Any) -> SignedRequest:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **self.sign(raw, **signing)}
        return SignedRequest(headers, raw)

    def signed_click(self, payload: Mapping[str, Any], **signing: Any) -> SignedRequest:
        """An interactive request: form-encoded ``payload=<json>``, as Slack sends it."""
        raw = urlencode({"payload": json.dumps(payload)}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self.sign(raw, **signing)}
        return SignedRequest(headers, raw)

    def url_verification(self, challenge: str, **signing: Any) -> SignedRequest:
        return self.signed_json(
            {"token": "legacy", "challenge": challenge, "type": "url_verification"}, **signing
        )


def valid_blocks(blocks: object) -> bool:
    """Whether Slack takes ``blocks`` (the kinds Angie sends), with Slack's limits: 50 blocks,
    3000 characters of section text, 25 buttons of 75 characters whose value is under 2000."""
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
        return False
    return all(isinstance(block, dict) and _valid_block(block) for block in blocks)


def _text(value: object, kinds: tuple[str, ...], limit: int) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") in kinds
        and isinstance(value.get("text"), str)
        and 0 < len(value["text"]) <= limit
    )


def _button(element: object) -> bool:
    return (
        isinstance(element, dict)
        and element.get("type") == "button"
        and _text(element.get("text"), ("plain_text",), 75)
        and isinstance(element.get("action_id"), str)
        and len(element["action_id"]) <= 255
        and isinstance(element.get("value", ""), str)
        and len(element.get("value", "")) <= 2000
        and element.get("style") in (None, "primary", "danger")
    )


def _valid_block(block: dict[str, Any]) -> bool:
    kind = block.get("type")
    if kind == "section":
        return _text(block.get("text"), ("mrkdwn", "plain_text"), 3000)
    if kind == "actions":
        elements = block.get("elements")
        return (
            isinstance(elements, list) and 0 < len(elements) <= 25 and all(map(_button, elements))
        )
    if kind == "context":
        elements = block.get("elements")
        return (
            isinstance(elements, list)
            and 0 < len(elements) <= 10
            and all(_text(e, ("mrkdwn", "plain_text"), 3000) for e in elements)
        )
    return kind == "divider"
