"""The fake Discord's REST API and gateway on 127.0.0.1 (see the package's docstring)."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import WSMsgType, web

from fakes.discord_platform import payloads
from fakes.discord_platform.payloads import (
    DM_CHANNEL,
    PRIVILEGED_INTENTS,
    TEXT_CHANNEL,
    FakeUser,
    Json,
    message_problem,
)

__all__ = ("FakeDiscord",)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: float = 0.0


@dataclass
class _Interaction:
    token: str
    message_id: str
    answered: bool = False


@dataclass
class FakeDiscord:
    """Discord with two servers, ``guild_id`` ("Home", channel ``channel_id``) and
    ``other_guild_id`` (channel ``other_channel_id``), the bot ``Angie#0001`` (``bot``) and a
    person ``sam``. ``api_url`` is what ``create(..., api_url=)`` takes."""

    token: str = field(default_factory=lambda: "fake." + secrets.token_urlsafe(24))
    privileged_enabled: int = 0  # privileged intents "enabled in the developer portal"
    messages: list[Json] = field(default_factory=list)  # what the bot posted, as stored
    edits: list[Json] = field(default_factory=list)  # {"channel_id", "message_id", "body"}
    interaction_responses: list[Json] = field(default_factory=list)  # {"interaction_id", "body"}
    followups: list[Json] = field(default_factory=list)  # {"interaction_id", "body"}
    threads: dict[str, Json] = field(default_factory=dict)  # by id (the message they started at)
    identifies: list[Json] = field(default_factory=list)  # IDENTIFY payloads, token removed
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
            self.channel_id: payloads.text_channel(self.channel_id, self.guild_id, "general"),
            self.other_channel_id: payloads.text_channel(
                self.other_channel_id, self.other_guild_id, "lobby"
            ),
        }
        self.stored: dict[str, Json] = {}  # every message by id
        self._interactions: dict[str, _Interaction] = {}
        self._failures: list[_Failure] = []
        self._refuse_identify: int | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.resumes = 0  # gateway sessions resumed

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._gatekeeper])
        app.router.add_get("/gateway", self._gateway)
        api, hook = "/api/v10", "/api/v10/webhooks/{app}/{token}"
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
        app.router.add_patch(f"{hook}/messages/@original", self._edit_original)
        app.router.add_post(hook, self._followup)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
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

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway connection with ``code`` (4000: Discord's "reconnect")."""
        for ws in list(self._sockets):
            self._sockets.remove(ws)
            await ws.close(code=code, message=b"Unknown error.")

    def refuse_identify(self, code: int) -> None:
        """Close the gateway after the next IDENTIFY with ``code`` (4014: disallowed intents)."""
        self._refuse_identify = code

    async def dm(self, user: FakeUser, text: str) -> str:
        """``user`` writes to the bot directly; returns the message id."""
        return await self._create(self._dm_channel(user)["id"], user, text)

    async def mention(self, channel_id: str, user: FakeUser, text: str) -> str:
        """``user`` writes ``@Angie <text>`` in a server channel or thread; returns the id."""
        return await self._create(channel_id, user, f"<@{self.bot.id}> {text}")

    async def say(self, channel_id: str, user: FakeUser, text: str) -> str:
        """``user`` writes ``text`` as it is in a channel; returns the message id."""
        return await self._create(channel_id, user, text)

    async def click(self, user: FakeUser, message_id: str, custom_id: str) -> str:
        """``user`` presses the button ``custom_id`` on a message; returns the interaction id."""
        message = self.stored[message_id]
        buttons = [b for row in message["components"] for b in row["components"]]
        if not any(b.get("custom_id") == custom_id for b in buttons):
            raise AssertionError(f"message {message_id} has no button {custom_id!r}")
        channel = self.channels[message["channel_id"]]
        interaction_id, token = self._id(), secrets.token_urlsafe(16)
        self._interactions[interaction_id] = _Interaction(token, message_id)
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
            data |= {"guild_id": channel["guild_id"], "member": payloads.member(user), "context": 0}
        else:
            data |= {"user": user.payload(), "context": 1}
        await self._dispatch("INTERACTION_CREATE", data)
        return interaction_id

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Until ``predicate()`` holds (checked after each REST request the fake answers)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    # -- REST -------------------------------------------------------------------------------

    @web.middleware
    async def _gatekeeper(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        self.requests.append((request.method, request.path))
        if self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            if failure.status == 429:  # Discord's rate limit answers come through its proxy
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": failure.retry_after,
                }
                return _json(body | {"global": False}, status=429, headers={"Via": "1.1 google"})
            return _error(failure.status, 0, "Discord is down")
        # Interaction callbacks and follow-ups are authorised by the token in their path.
        by_token = "/interactions/" in request.path or "/webhooks/" in request.path
        if not by_token and request.headers.get("Authorization") != f"Bot {self.token}":
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
        user = self.users.get(str((await _body(request)).get("recipient_id")))
        if user is None:
            return _error(400, 50035, "Invalid Form Body: recipient_id")
        return _json(self._dm_channel(user))

    async def _post_message(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        body = await _body(request)
        if problem := message_problem(body):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        message = self._message(channel["id"], self.bot, body.get("content") or "")
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
        return await self._edit_message(request, message)

    async def _thread(self, request: web.Request) -> web.Response:
        parent_id, message_id = request.match_info["channel"], request.match_info["message"]
        parent, message = self.channels.get(parent_id), self.stored.get(message_id)
        if parent is None or message is None or message["channel_id"] != parent_id:
            return _error(404, 10008, "Unknown Message")
        if parent["type"] != TEXT_CHANNEL:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if message_id in self.threads:
            return _error(400, 160004, "A thread has already been created for this message")
        body = await _body(request)
        name, archive_after = body.get("name"), body.get("auto_archive_duration", 4320)
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return _error(400, 50035, "Invalid Form Body: name")
        if archive_after not in {60, 1440, 4320, 10080}:
            return _error(400, 50035, "Invalid Form Body: auto_archive_duration")
        thread = payloads.thread(message_id, parent, self.bot, name, archive_after)
        self.threads[message_id] = self.channels[message_id] = thread
        await self._dispatch("THREAD_CREATE", thread | {"newly_created": True})
        return _json(thread, status=201)

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self._interactions.get(request.match_info["id"])
        if interaction is None or interaction.token != request.match_info["token"]:
            return _error(401, 50027, "Invalid Webhook Token")
        if interaction.answered:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = await _body(request)
        kind, data = body.get("type"), body.get("data") or {}
        if kind not in {4, 5, 6, 7} or message_problem(data, edit=True):
            return _error(400, 50035, "Invalid Form Body: interaction response")
        interaction.answered = True
        self.interaction_responses.append(
            {"interaction_id": request.match_info["id"], "body": body}
        )
        if kind == 7:
            self._apply_edit(self.stored[interaction.message_id], data)
        answer: Json = {"id": request.match_info["id"], "type": 3}
        if kind == 4:
            answer["response_message_ephemeral"] = bool(data.get("flags", 0) & 64)
        return _json({"interaction": answer})

    async def _edit_original(self, request: web.Request) -> web.Response:
        found = self._answered(request)
        if isinstance(found, web.Response):
            return found
        return await self._edit_message(request, self.stored[found[1].message_id])

    async def _followup(self, request: web.Request) -> web.Response:
        found = self._answered(request)
        if isinstance(found, web.Response):
            return found
        body = await _body(request)
        if problem := message_problem(body):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        self.followups.append({"interaction_id": found[0], "body": body})
        channel_id = self.stored[found[1].message_id]["channel_id"]
        message = self._message(channel_id, self.bot, body.get("content") or "")
        message["flags"] = body.get("flags", 0)
        message["webhook_id"] = self.application_id
        return _json(message)

    def _answered(self, request: web.Request) -> tuple[str, _Interaction] | web.Response:
        """The interaction a follow-up's path names, once it was answered (as Discord wants)."""
        if request.match_info["app"] != self.application_id:
            return _error(404, 10015, "Unknown Webhook")
        for interaction_id, interaction in self._interactions.items():
            if interaction.token == request.match_info["token"]:
                if not interaction.answered:
                    return _error(404, 10015, "Unknown Webhook")
                return interaction_id, interaction
        return _error(401, 50027, "Invalid Webhook Token")

    async def _edit_message(self, request: web.Request, message: Json) -> web.Response:
        if message["author"]["id"] != self.bot.id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body = await _body(request)
        if problem := message_problem(body, edit=True):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        self._apply_edit(message, body)
        self.edits.append(
            {"channel_id": message["channel_id"], "message_id": message["id"], "body": body}
        )
        return _json(message)

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
            elif op == 6:
                await self._resume(ws, data)
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
            name
            for bit, name in PRIVILEGED_INTENTS.items()
            if intents & bit and not self.privileged_enabled & bit
        ]
        code, self._refuse_identify = self._refuse_identify, None
        if refused or code is not None:
            await ws.close(code=code or 4014, message=b"Disallowed intent(s).")
            return
        guilds = ((self.guild_id, "Home"), (self.other_guild_id, "Elsewhere"))
        ready = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": g, "unavailable": True} for g, _ in guilds],
            "session_id": secrets.token_hex(8),
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "application": {"id": self.application_id, "flags": 0},
        }
        self._sockets.append(ws)
        await self._send(ws, "READY", ready)
        for guild_id, name in guilds:
            channels = [c for c in self.channels.values() if c.get("guild_id") == guild_id]
            await self._send(ws, "GUILD_CREATE", payloads.guild(guild_id, name, self.sam, channels))

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> None:
        # Any session of this bot resumes (nothing is replayed: the fake keeps no backlog).
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.resumes += 1
        self._sockets.append(ws)
        await self._send(ws, "RESUMED", {})

    async def _dispatch(self, event: str, data: Json) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await self._send(ws, event, data)

    async def _send(self, ws: web.WebSocketResponse, event: str, data: Json) -> None:
        await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    # -- the world --------------------------------------------------------------------------

    def _id(self) -> str:
        return str(next(self._ids))

    def _dm_channel(self, user: FakeUser) -> Json:
        for channel in self.channels.values():
            if channel["type"] == DM_CHANNEL and channel["recipients"][0]["id"] == user.id:
                return channel
        channel = payloads.dm_channel(self._id(), user)
        self.channels[channel["id"]] = channel
        return channel

    def _message(self, channel_id: str, author: FakeUser, content: str) -> Json:
        mentioned = [u for u in self.users.values() if f"<@{u.id}>" in content]
        return payloads.message(self._id(), self.channels[channel_id], author, content, mentioned)

    async def _create(self, channel_id: str, author: FakeUser, text: str) -> str:
        message = self._message(channel_id, author, text)
        self.stored[message["id"]] = message
        await self._dispatch("MESSAGE_CREATE", message)
        return str(message["id"])

    def _apply_edit(self, message: Json, body: Json) -> None:
        for key in ("content", "components"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = payloads.now()


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
