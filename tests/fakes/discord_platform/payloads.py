"""The JSON shapes the fake Discord hands out, and the checks Discord makes on message bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = (
    "DM_CHANNEL",
    "PRIVILEGED_INTENTS",
    "PUBLIC_THREAD",
    "TEXT_CHANNEL",
    "FakeUser",
    "Json",
    "dm_channel",
    "guild",
    "member",
    "message",
    "message_problem",
    "now",
    "text_channel",
    "thread",
)

Json = dict[str, Any]

# Intents Discord calls privileged: GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT.
PRIVILEGED_INTENTS = {
    1 << 1: "GUILD_MEMBERS",
    1 << 8: "GUILD_PRESENCES",
    1 << 15: "MESSAGE_CONTENT",
}
TEXT_CHANNEL, DM_CHANNEL, PUBLIC_THREAD = 0, 1, 11


@dataclass(frozen=True)
class FakeUser:
    """Someone on the fake Discord (``bot``: an app's bot user, Angie's or another)."""

    id: str
    name: str
    bot: bool = False

    def payload(self) -> Json:
        return {
            "id": self.id,
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0001" if self.bot else "0",
            "avatar": None,
            "bot": self.bot,
        }


def now() -> str:
    return datetime.now(UTC).isoformat()


def text_channel(channel_id: str, guild_id: str, name: str) -> Json:
    return {
        "id": channel_id,
        "type": TEXT_CHANNEL,
        "guild_id": guild_id,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def dm_channel(channel_id: str, user: FakeUser) -> Json:
    return {
        "id": channel_id,
        "type": DM_CHANNEL,
        "recipients": [user.payload()],
        "last_message_id": None,
    }


def thread(message_id: str, parent: Json, owner: FakeUser, name: str, archive_after: int) -> Json:
    return {
        "id": message_id,  # as on Discord: a thread started from a message has its id
        "type": PUBLIC_THREAD,
        "guild_id": parent["guild_id"],
        "parent_id": parent["id"],
        "owner_id": owner.id,
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": archive_after,
            "archive_timestamp": now(),
            "locked": False,
        },
    }


def guild(guild_id: str, name: str, owner: FakeUser, channels: list[Json]) -> Json:
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "owner_id": owner.id,
        "unavailable": False,
        "member_count": 2,
        "large": False,
        "features": [],
        "roles": [],
        "emojis": [],
        "stickers": [],
        "members": [],
        "voice_states": [],
        "presences": [],
        "channels": [c for c in channels if c["type"] == TEXT_CHANNEL],
        "threads": [c for c in channels if c["type"] == PUBLIC_THREAD],
        "joined_at": now(),
        "premium_tier": 0,
        "mfa_level": 0,
        "verification_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "nsfw_level": 0,
        "preferred_locale": "en-US",
    }


def member(user: FakeUser) -> Json:
    return {
        "user": user.payload(),
        "roles": [],
        "joined_at": now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": "0",
    }


def message(
    message_id: str, channel: Json, author: FakeUser, content: str, mentioned: list[FakeUser]
) -> Json:
    data: Json = {
        "id": message_id,
        "channel_id": channel["id"],
        "author": author.payload(),
        "content": content,
        "timestamp": now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [u.payload() for u in mentioned],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }
    if "guild_id" in channel:
        data["guild_id"] = channel["guild_id"]
        data["member"] = {k: v for k, v in member(author).items() if k != "user"}
    return data


def message_problem(body: Json, *, edit: bool = False) -> str | None:
    """What Discord would refuse in a message body, if anything."""
    content = body.get("content")
    if content is not None and (not isinstance(content, str) or len(content) > 2000):
        return "content must be a string of at most 2000 characters"
    if not edit and not content and not body.get("components") and not body.get("embeds"):
        return "Cannot send an empty message"
    mentions = body.get("allowed_mentions")
    if mentions is not None:
        if not isinstance(mentions, dict) or not set(mentions) <= {
            "parse",
            "users",
            "roles",
            "replied_user",
        }:
            return "allowed_mentions"
        if "users" in mentions and "users" in mentions.get("parse", []):
            return "allowed_mentions: parse users and users are mutually exclusive"
        if not all(str(u).isdigit() for u in mentions.get("users", [])):
            return "allowed_mentions: users must be snowflakes"
    for row in body.get("components") or []:
        if row.get("type") != 1 or not 1 <= len(row.get("components", [])) <= 5:
            return "components: an action row holds one to five components"
        for button in row["components"]:
            custom_id = button.get("custom_id")
            if (
                button.get("type") != 2
                or not isinstance(custom_id, str)
                or not 1 <= len(custom_id) <= 100
            ):
                return "components: a button needs a custom_id of 1 to 100 characters"
    return None
