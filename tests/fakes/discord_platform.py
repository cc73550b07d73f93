"""A small Discord on 127.0.0.1 (REST v10 and the gateway) that discord.py can log in to.

It enforces what Discord enforces for what Angie uses: ``Authorization: Bot <token>`` on REST
(401 otherwise), the token and intents on IDENTIFY (privileged intents not enabled for the bot
are refused with close code 4014), known channels and messages, message and button shapes, and
an interaction token on interaction callbacks. A test drives it with :meth:`FakeDiscord.dm`,
:meth:`FakeDiscord.mention` and :meth:`FakeDiscord.click`, reads what the bot did in
``messages``, ``edits``, ``threads`` and ``interaction_responses``, and can make it answer 5xx
(:meth:`fail`) or 429 (:meth:`rate_limit`) for a number of requests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import WSMsgType, web

__all__ = ("FakeDiscord", "FakeUser")

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


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: float = 0.0


@dataclass
class FakeDiscord:
    """Discord with two servers ("guild" where the bot is wanted, "other_guild") each with one
    text channel, the bot ``Angie#0001`` and a person ``sam``. ``api_url`` is what
    ``create(..., api_url=)`` takes."""

    token: str = field(default_factory=lambda: "fake." + secrets.token_urlsafe(24))
    privileged_enabled: int = 0  # the privileged intents "enabled in the developer portal"
    messages: list[Json] = field(default_factory=list)  # what the bot posted (as stored)
    edits: list[Json] = field(default_factory=list)  # {"channel_id", "message_id", "body"}
    interaction_responses: list[Json] = field(default_factory=list)  # {"interaction_id", "body"}
    threads: dict[str, Json] = field(default_factory=dict)
    identifies: list[Json] = field(default_factory=list)  # IDENTIFY payloads (token removed)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of REST calls

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_180_000_000_000_000_000)
        self.bot = FakeUser(self._id(), "Angie", bot=True)
        self.application_id = self._id()
        self.sam = FakeUser(self._id(), "Sam")
        self.guild_id, self.other_guild_id = self._id(), self._id()
        self.channel_id, self.other_channel_id = self._id(), self._id()
        self.users: dict[str, FakeUser] = {u.id: u for u in (self.bot, self.sam)}
        self.channels: dict[str, Json] = {
            self.channel_id: self._text_channel(self.channel_id, self.guild_id, "general"),
            self.other_channel_id: self._text_channel(
                self.other_channel_id, self.other_guild_id, "x"
            ),
        }
        self.stored: dict[str, Json] = {}  # every message by id
        self._interactions: dict[str, str] = {}  # interaction id -> its token
        self._failures: list[_Failure] = []
        self._refuse_identify: int | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._gatekeeper])
        app.router.add_get("/gateway", self._gateway)
        api = "/api/v10"
        app.router.add_get(f"{api}/gateway/bot", self._gateway_bot)
        app.router.add_get(f"{api}/users/@me", self._me)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._application)
        app.router.add_post(f"{api}/users/@me/channels", self._open_dm)
        app.router.add_post(f"{api}/channels/{{channel}}/messages", self._post_message)
        app.router.add_patch(f"{api}/channels/{{channel}}/messages/{{message}}", self._edit)
        app.router.add_post(
            f"{api}/channels/{{channel}}/messages/{{message}}/threads", self._thread
        )
        app.router.add_post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # -- what a test does -------------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self._id(), name, bot=bot)
        self.users[user.id] = user
        return user

    def fail(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next ``times`` REST requests with ``status`` (Discord being down)."""
        self._failures.append(_Failure(status, times))

    def rate_limit(self, retry_after: float, *, times: int = 1) -> None:
        """Answer the next ``times`` REST requests with 429 and ``retry_after`` seconds."""
        self._failures.append(_Failure(429, times, retry_after))

    def refuse_identify(self, code: int) -> None:
        """Close the gateway after the next IDENTIFY with ``code`` (4014: disallowed intents)."""
        self._refuse_identify = code

    async def dm(self, user: FakeUser, text: str) -> str:
        """``user`` writes to the bot directly; returns the message id."""
        channel = self._dm_channel(user)
        return await self._create(channel["id"], user, text, guild_id=None)

    async def mention(self, channel_id: str, user: FakeUser, text: str) -> str:
        """``user`` writes ``@Angie <text>`` in a server channel or thread; returns the id."""
        channel = self.channels[channel_id]
        return await self._create(
            channel_id, user, f"<@{self.bot.id}> {text}", guild_id=channel["guild_id"]
        )

    async def say(self, channel_id: str, user: FakeUser, text: str) -> str:
        """``user`` writes ``text`` (no mention unless it has one) in a server channel."""
        channel = self.channels[channel_id]
        return await self._create(channel_id, user, text, guild_id=channel.get("guild_id"))

    async def click(self, user: FakeUser, message_id: str, custom_id: str) -> str:
        """``user`` presses the button ``custom_id`` on a message; returns the interaction id."""
        message = self.stored[message_id]
        buttons = [b for row in message["components"] for b in row["components"]]
        if not any(b.get("custom_id") == custom_id for b in buttons):
            raise AssertionError(f"message {message_id} has no button {custom_id!r}")
        channel = self.channels[message["channel_id"]]
        interaction_id, token = self._id(), secrets.token_urlsafe(16)
        self._interactions[interaction_id] = token
        data: Json = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": 3,
            "token": token,
            "version": 1,
            "data": {"custom_id": custom_id, "component_type": 2},
            "channel_id": channel["id"],
            "channel": channel,
            "message": message,
            "app_permissions": "0",
            "attachment_size_limit": 10 * 1024 * 1024,
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {},
        }
        if "guild_id" in channel:
            data["guild_id"] = channel["guild_id"]
            data["member"] = self._member(user)
            data["context"] = 0
        else:
            data["user"] = user.payload()
            data["context"] = 1
        await self._dispatch("INTERACTION_CREATE", data)
        return interaction_id

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Until ``predicate()`` holds (something was posted, edited or answered)."""
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(predicate)

    # -- REST -------------------------------------------------------------------------------

    @web.middleware
    async def _gatekeeper(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == "/gateway":
            response: web.StreamResponse = await handler(request)
            return response
        self.requests.append((request.method, request.path))
        if self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            if failure.status == 429:
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": failure.retry_after,
                    "global": False,
                }
                return _json(body, status=429, headers={"Via": "1.1 google"})
            return _json({"message": "Discord is down", "code": 0}, status=failure.status)
        callback = "/interactions/" in request.path
        if not callback and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        response = await handler(request)
        async with self._changed:
            self._changed.notify_all()
        return response

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        url = f"ws://127.0.0.1:{self.port}/gateway"
        return _json({"url": url, "shards": 1, "session_start_limit": limit})

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.bot.payload() | {"flags": 0, "mfa_enabled": False})

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": self.application_id,
                "name": "Angie",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self.sam.payload(),
                "team": None,
            }
        )

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self.users.get(str(body.get("recipient_id")))
        if user is None:
            return _error(400, 50035, "Invalid Form Body: recipient_id")
        return _json(self._dm_channel(user))

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        body = await _body(request)
        problem = _message_problem(body)
        if problem:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        message = self._message(channel, self.bot, body.get("content", ""), channel.get("guild_id"))
        message["components"] = body.get("components", [])
        message["allowed_mentions"] = body.get("allowed_mentions")
        self.stored[message["id"]] = message
        self.messages.append(message)
        await self._dispatch("MESSAGE_CREATE", message)
        return _json(message)

    async def _edit(self, request: web.Request) -> web.Response:
        channel_id, message_id = request.match_info["channel"], request.match_info["message"]
        message = self.stored.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            return _error(404, 10008, "Unknown Message")
        if message["author"]["id"] != self.bot.id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body = await _body(request)
        problem = _message_problem(body, edit=True)
        if problem:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        self._apply_edit(message, body)
        self.edits.append({"channel_id": channel_id, "message_id": message_id, "body": body})
        return _json(message)

    async def _thread(self, request: web.Request) -> web.Response:
        parent, message_id = request.match_info["channel"], request.match_info["message"]
        channel = self.channels.get(parent)
        message = self.stored.get(message_id)
        if channel is None or message is None or message["channel_id"] != parent:
            return _error(404, 10008, "Unknown Message")
        if channel["type"] != TEXT_CHANNEL:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if message_id in self.threads:
            return _error(400, 160004, "A thread has already been created for this message")
        body = await _body(request)
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return _error(400, 50035, "Invalid Form Body: name")
        thread = {
            "id": message_id,  # as on Discord: a thread started from a message has its id
            "type": PUBLIC_THREAD,
            "guild_id": channel["guild_id"],
            "parent_id": parent,
            "owner_id": self.bot.id,
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": _now(),
                "locked": False,
            },
        }
        self.threads[message_id] = self.channels[message_id] = thread
        await self._dispatch("THREAD_CREATE", thread | {"newly_created": True})
        return _json(thread, status=201)

    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id, token = request.match_info["id"], request.match_info["token"]
        if self._interactions.get(interaction_id) != token:
            return _error(401, 50027, "Invalid Webhook Token")
        del self._interactions[interaction_id]  # one response per interaction, as on Discord
        body = await _body(request)
        kind, data = body.get("type"), body.get("data") or {}
        if kind not in {4, 5, 6, 7} or _message_problem(data, edit=True):
            return _error(400, 50035, "Invalid Form Body: interaction response")
        self.interaction_responses.append({"interaction_id": interaction_id, "body": body})
        answer: Json = {"interaction": {"id": interaction_id, "type": 3}}
        if kind == 4:
            answer["interaction"]["response_message_ephemeral"] = bool(data.get("flags", 0) & 64)
        return _json(answer)

    # -- gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            op, data = payload.get("op"), payload.get("d")
            if op == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(ws, data)
            elif op == 6:  # RESUME: this fake keeps no sessions, so start a new one
                await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> None:
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        refused = [
            n
            for bit, n in PRIVILEGED_INTENTS.items()
            if intents & bit and not self.privileged_enabled & bit
        ]
        code, self._refuse_identify = self._refuse_identify, None
        if refused or code is not None:
            await ws.close(code=code or 4014, message=b"Disallowed intent(s).")
            return
        ready = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [
                {"id": g, "unavailable": True} for g in (self.guild_id, self.other_guild_id)
            ],
            "session_id": secrets.token_hex(8),
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "application": {"id": self.application_id, "flags": 0},
        }
        self._sockets.append(ws)
        await self._send(ws, "READY", ready)
        for guild_id in (self.guild_id, self.other_guild_id):
            await self._send(ws, "GUILD_CREATE", self._guild(guild_id))

    async def _dispatch(self, event: str, data: Json) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await self._send(ws, event, data)

    async def _send(self, ws: web.WebSocketResponse, event: str, data: Json) -> None:
        await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    # -- the world --------------------------------------------------------------------------

    def _id(self) -> str:
        return str(next(self._ids))

    def _text_channel(self, channel_id: str, guild_id: str, name: str) -> Json:
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

    def _guild(self, guild_id: str) -> Json:
        channels = [c for c in self.channels.values() if c.get("guild_id") == guild_id]
        return {
            "id": guild_id,
            "name": "Home" if guild_id == self.guild_id else "Elsewhere",
            "icon": None,
            "owner_id": self.sam.id,
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
            "joined_at": _now(),
            "premium_tier": 0,
            "mfa_level": 0,
            "verification_level": 0,
            "explicit_content_filter": 0,
            "default_message_notifications": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-US",
        }

    def _member(self, user: FakeUser) -> Json:
        return {
            "user": user.payload(),
            "roles": [],
            "joined_at": _now(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": "0",
        }

    def _dm_channel(self, user: FakeUser) -> Json:
        for channel in self.channels.values():
            if channel["type"] == DM_CHANNEL and channel["recipients"][0]["id"] == user.id:
                return channel
        channel = {
            "id": self._id(),
            "type": DM_CHANNEL,
            "recipients": [user.payload()],
            "last_message_id": None,
        }
        self.channels[channel["id"]] = channel
        return channel

    def _message(self, channel: Json, author: FakeUser, content: str, guild_id: str | None) -> Json:
        mentioned = [u.payload() for u in self.users.values() if f"<@{u.id}>" in content]
        message: Json = {
            "id": self._id(),
            "channel_id": channel["id"],
            "author": author.payload(),
            "content": content,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentioned,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild_id is not None:
            message["guild_id"] = guild_id
            message["member"] = {k: v for k, v in self._member(author).items() if k != "user"}
        return message

    async def _create(
        self, channel_id: str, author: FakeUser, text: str, guild_id: str | None
    ) -> str:
        message = self._message(self.channels[channel_id], author, text, guild_id)
        self.stored[message["id"]] = message
        await self._dispatch("MESSAGE_CREATE", message)
        return str(message["id"])

    def _apply_edit(self, message: Json, body: Json) -> None:
        for key in ("content", "components"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = _now()


def _message_problem(body: Json, *, edit: bool = False) -> str | None:
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


async def _body(request: web.Request) -> Json:
    if request.content_type != "application/json":
        return {}
    data = await request.json()
    return data if isinstance(data, dict) else {}


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py reads a body as JSON only when Content-Type is exactly application/json.
    headers = {"Content-Type": "application/json"} | (headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _now() -> str:
    return datetime.now(UTC).isoformat()
