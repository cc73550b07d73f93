"""BlueBubbles' webhook calls as Angie reads them: the shared secret in the address, the event
envelope (``{"type": …, "data": …}``) and a ``new-message`` event's message."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = (
    "NEW_MESSAGE",
    "NewMessage",
    "PayloadError",
    "addressed_to_angie",
    "new_message",
    "normalised_address",
    "read_event",
    "secret_matches",
)

NEW_MESSAGE = "new-message"
# Chat styles in Messages' database: 43 is a group chat, 45 a one-to-one chat.
_GROUP_STYLE = 43
_DIRECT_STYLE = 45
# "Angie, …", "@Angie …", "angie: …": how people address her in a group chat.
_ANGIE = re.compile(r"^\s*@?angie\b[\s,:;.!?-]*", re.IGNORECASE)
_PHONE_NOISE = re.compile(r"[\s().\-\u00a0]")


class PayloadError(ValueError):
    """A webhook body that is not BlueBubbles' JSON; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message someone else wrote, as Angie needs it."""

    guid: str
    text: str
    address: str  # the sender's phone number or email address, normalised
    chat_guid: str  # "iMessage;-;+15551234567" (one-to-one) or "iMessage;+;chat123…" (group)
    group: bool


def secret_matches(given: str | None, expected: str) -> bool:
    """``given`` is the webhook secret, compared in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def read_event(body: bytes) -> tuple[str, Any]:
    """The event's type and data from a webhook body."""
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PayloadError("the body is not JSON") from err
    if not isinstance(event, dict):
        raise PayloadError("the body is not a JSON object")
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise PayloadError("the event has no type")
    if "data" not in event:
        raise PayloadError(f"the {kind} event has no data")
    return kind, event["data"]


def new_message(data: Any) -> NewMessage | None:
    """The message in a ``new-message`` event's data; ``None`` for what is not someone's text
    for Angie: her own messages (BlueBubbles reports what it sent too), tapbacks, attachments
    without text."""
    if not isinstance(data, Mapping):
        raise PayloadError("new-message data is not an object")
    guid = data.get("guid")
    if not isinstance(guid, str) or not guid:
        raise PayloadError("new-message data has no guid")
    from_me = data.get("isFromMe")
    if not isinstance(from_me, bool):
        raise PayloadError("new-message data has no isFromMe")
    if from_me or data.get("associatedMessageType") or data.get("associatedMessageGuid"):
        return None
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise PayloadError("new-message text is not a string")
    handle = data.get("handle")
    address = handle.get("address") if isinstance(handle, Mapping) else None
    if not isinstance(address, str) or not address.strip():
        raise PayloadError("new-message data has no handle.address")
    chats = data.get("chats")
    chat = chats[0] if isinstance(chats, list) and chats else None
    chat_guid = chat.get("guid") if isinstance(chat, Mapping) else None
    if not isinstance(chat_guid, str) or not chat_guid:
        raise PayloadError("new-message data has no chats[0].guid")
    if not text or not text.strip():
        return None
    assert isinstance(chat, Mapping)
    return NewMessage(guid, text, normalised_address(address), chat_guid, _is_group(chat))


def normalised_address(address: str) -> str:
    """One spelling per person: email addresses lower-cased, phone numbers without spaces,
    dashes, dots or brackets (``+1 (555) 123-4567`` → ``+15551234567``)."""
    address = address.strip()
    if "@" in address:
        return address.lower()
    return _PHONE_NOISE.sub("", address)


def addressed_to_angie(text: str) -> str | None:
    """The text without its leading "Angie"/"@Angie", or ``None`` if it does not start so."""
    found = _ANGIE.match(text)
    return None if found is None else text[found.end() :].strip()


def _is_group(chat: Mapping[str, Any]) -> bool:
    style = chat.get("style")
    if style in (_GROUP_STYLE, _DIRECT_STYLE):
        return bool(style == _GROUP_STYLE)
    # Older servers leave out the style; the guid's middle part says it: ";+;" is a group.
    return ";+;" in str(chat.get("guid"))
