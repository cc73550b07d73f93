"""A fake Slack on 127.0.0.1: the Web API methods Angie calls, Socket Mode and signed HTTP events.

It enforces what Slack enforces (bearer tokens, required arguments, channel ids and names, the
envelope ack), records what it received, and can rate limit or be down for a while.

    async with FakeSlack() as slack:
        channel = create(SlackSettings(), SlackSecrets(**slack.secrets()), api_url=slack.api_url)
        await channel.start(hub)
        envelope = await slack.dm("U0SAM", "hello")  # over the Socket Mode connection
        await slack.wait_ack(envelope)
        await slack.wait(lambda s: s.posts)  # what the adapter posted

People: :meth:`dm`, :meth:`mention`, :meth:`click` (on a recorded :class:`Post`),
:meth:`send_event` (any event). Records: ``calls``, ``posts``, ``updates``, ``ephemerals``,
``acks``, ``connections``. Trouble: :meth:`rate_limit`, :meth:`go_down` / :meth:`come_back`,
:meth:`revoke`, :meth:`disconnect`, or change ``bot_token`` / ``app_token`` / ``scopes``.
In HTTP mode (``slack.secrets(socket_mode=False)``) build requests for the adapter's webhook with
``signed_event``, ``signed_click``, ``url_verification`` (``slack_payloads``); or give the fake an
``events_url`` and :meth:`dm`, :meth:`mention` and :meth:`click` POST them there, as Slack does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import ClientSession, WSMsgType, web

from fakes.slack_payloads import Post, SignedRequest, SlackPayloads, valid_blocks

__all__ = ("ApiCall", "FakeSlack", "Post", "SignedRequest")

BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
APP_TOKEN = "xapp-1-A111-3333-fakeapptoken"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
# What each method needs, as Slack checks it against the token's scopes.
SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
}
DEFAULT_SCOPES = ("app_mentions:read", "chat:write", "im:history", "im:read", "im:write")
_TS = re.compile(r"\d+\.\d+")


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Web API call as the fake received it (``status`` is what it answered)."""

    method: str
    args: Mapping[str, Any]
    status: int
    at: float  # time.monotonic()


@dataclass
class FakeSlack(SlackPayloads):
    """A workspace ``team`` (``team_id``) with Angie's bot user ``bot_user``; channels by name in
    ``channels`` (``#angie`` → ``C0ANGIE``); any id starting with C, D or G also exists."""

    team_id: str = "T0HOME"
    team: str = "Home"
    bot_user: str = "UANGIE"
    bot_id: str = "BANGIE"
    bot_name: str = "angie"
    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    signing_secret: str = SIGNING_SECRET
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    channels: dict[str, str] = field(default_factory=lambda: {"angie": "C0ANGIE"})
    events_url: str | None = None  # where HTTP events go (Slack's Request URL)

    calls: list[ApiCall] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    acks: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    connections: int = 0  # Socket Mode connections opened so far

    _runner: web.AppRunner | None = None
    _port: int = 0
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _tickets: set[str] = field(default_factory=set)
    _limited: int = 0
    _retry_after: int = 1
    _down: bool = False
    _revoked: str | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # -- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """slack_sdk's ``base_url`` for this fake."""
        return f"http://127.0.0.1:{self._port}/api/"

    def secrets(self, *, socket_mode: bool = True) -> dict[str, str]:
        """The app's secrets: bot token and app token (Socket Mode) or signing secret (HTTP)."""
        if socket_mode:
            return {"bot_token": self.bot_token, "app_token": self.app_token}
        return {"bot_token": self.bot_token, "signing_secret": self.signing_secret}

    # -- failures

    def rate_limit(self, calls: int, retry_after: int = 1) -> None:
        """Answer the next ``calls`` Web API calls with 429 and ``Retry-After``."""
        self._limited, self._retry_after = calls, retry_after

    async def go_down(self) -> None:
        """Web API calls get a 503 and Socket Mode connections drop until :meth:`come_back`."""
        self._down = True
        for ws in list(self._sockets):
            await ws.close()

    def come_back(self) -> None:
        self._down = False

    def revoke(self, error: str = "token_revoked") -> None:
        """The bot token stops working (``token_revoked``, ``account_inactive``, …)."""
        self._revoked = error

    # -- waiting

    async def wait(self, predicate: Callable[[FakeSlack], object], within: float = 10.0) -> None:
        """Until ``predicate(self)`` holds (a post, an update, an ack arrived)."""
        async with asyncio.timeout(within):
            while not predicate(self):
                async with self._changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)

    async def wait_ack(self, envelope_id: str, within: float = 10.0) -> dict[str, Any] | None:
        """The app's ack of an envelope (its response payload, if any)."""
        await self.wait(lambda s: envelope_id in s.acks, within)
        return self.acks[envelope_id]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- inbound: what people do in Slack

    async def dm(self, user: str, text: str, *, channel: str = "D0SAM") -> str:
        """``user`` writes to Angie directly; returns the envelope id (Socket Mode) or ``""``."""
        return await self.send_event(self.dm_event(user, text, channel=channel))

    async def mention(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> str:
        """``user`` writes ``<@bot> text`` in ``channel`` (in a thread when ``thread_ts``)."""
        return await self.send_event(self.mention_event(channel, user, text, thread_ts=thread_ts))

    async def click(self, user: str, message: Post, action: str) -> str:
        """``user`` presses the button ``action`` (an action_id) on a message the bot posted."""
        payload = self.click_payload(user, message, action)
        if self.events_url is not None:
            await self._post_http(self.signed_click(payload))
            return ""
        return await self.deliver("interactive", payload)

    async def send_event(self, event: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Any event (``message``, ``app_mention``, …) as Slack wraps it in an event callback."""
        body = self.event_callback(event)
        if self.events_url is not None:
            await self._post_http(self.signed_event(event))
            return ""
        return await self.deliver("events_api", body, retry_attempt=retry_attempt)

    async def deliver(
        self, kind: str, payload: Mapping[str, Any], *, retry_attempt: int = 0, within: float = 10.0
    ) -> str:
        """Send an envelope over the open Socket Mode connection; returns its envelope id."""
        await self.wait(lambda s: s._sockets, within)
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    # -- HTTP mode

    async def _post_http(self, request: SignedRequest) -> None:
        assert self.events_url is not None
        async with (
            ClientSession() as session,
            session.post(
                self.events_url, data=request.body, headers=dict(request.headers)
            ) as response,
        ):
            if response.status != 200:
                raise AssertionError(f"the app answered Slack's request with {response.status}")

    # -- the Web API

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._arguments(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        status, headers, body = self._answer(method, token, args)
        self.calls.append(ApiCall(method, args, status, time.monotonic()))
        await self._notify()
        if status != 200 and body is None:
            return web.Response(status=status, text="upstream connect error", headers=headers)
        return web.json_response(body, status=status, headers=headers)

    @staticmethod
    async def _arguments(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            loaded = await request.json()
            if not isinstance(loaded, dict):
                raise web.HTTPBadRequest(text="the JSON body must be an object")
            return loaded
        raw = await request.text()
        args: dict[str, Any] = dict(parse_qsl(raw)) | dict(request.query)
        return args

    def _answer(
        self, method: str, token: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        if self._down:
            return 503, {}, None
        if self._limited > 0:
            self._limited -= 1
            retry = {"Retry-After": str(self._retry_after)}
            return 429, retry, {"ok": False, "error": "ratelimited"}
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token != expected:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        if self._revoked is not None and method != "apps.connections.open":
            return 200, {}, {"ok": False, "error": self._revoked}
        needed = SCOPES.get(method)
        if needed is not None and needed not in self.scopes:
            provided = ",".join(self.scopes)
            error = {"ok": False, "error": "missing_scope", "needed": needed, "provided": provided}
            return 200, {}, error
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        body: dict[str, Any] = handler(args)
        headers = {"x-oauth-scopes": ",".join(self.scopes)} if method == "auth.test" else {}
        return 200, headers, body

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team.lower()}.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}"}

    def _channel_id(self, channel: object) -> str | None:
        if not isinstance(channel, str) or not channel:
            return None
        if channel[0] in "CDG" and channel.isalnum():
            return channel
        return self.channels.get(channel.lstrip("#"))

    def _message_problem(self, args: Mapping[str, Any]) -> str | None:
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks:
            return "no_text"
        if text is not None and not isinstance(text, str):
            return "invalid_arguments"
        if isinstance(text, str) and len(text) > 40_000:
            return "msg_too_long"
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if blocks is not None and not valid_blocks(blocks):
            return "invalid_blocks"
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not (isinstance(thread_ts, str) and _TS.fullmatch(thread_ts)):
            return "invalid_thread_ts"
        return None

    @staticmethod
    def _blocks(args: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        blocks = args.get("blocks")
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(args.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        problem = self._message_problem(args)
        if problem is not None:
            return {"ok": False, "error": problem}
        post = Post(channel, self.new_ts(), args.get("text"), args.get("thread_ts"))
        post.blocks = self._blocks(args)
        self.posts.append(post)
        message = {"type": "message", "text": post.text, "ts": post.ts, "bot_id": self.bot_id}
        return {"ok": True, "channel": channel, "ts": post.ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        # chat.update wants the channel's id, not its name.
        if not isinstance(channel, str) or self._channel_id(channel) != channel:
            return {"ok": False, "error": "channel_not_found"}
        post = next(
            (p for p in self.posts if p.channel == channel and p.ts == args.get("ts")), None
        )
        if post is None:
            return {"ok": False, "error": "message_not_found"}
        problem = self._message_problem({k: v for k, v in args.items() if k != "thread_ts"})
        if problem is not None:
            return {"ok": False, "error": problem}
        post.text = args.get("text")
        post.blocks = self._blocks(args)
        self.updates.append(dict(args))
        return {"ok": True, "channel": channel, "ts": post.ts, "text": post.text}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._channel_id(args.get("channel")) is None:
            return {"ok": False, "error": "channel_not_found"}
        if not isinstance(args.get("user"), str):
            return {"ok": False, "error": "user_not_in_channel"}
        problem = self._message_problem(args)
        if problem is not None:
            return {"ok": False, "error": problem}
        self.ephemerals.append(dict(args))
        return {"ok": True, "message_ts": self.new_ts()}

    # -- Socket Mode

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if self._down or ticket not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid or used ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": "A111"},
            }
        )
        self._sockets.append(ws)
        await self._notify()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
                if isinstance(envelope_id, str):
                    self.acks[envelope_id] = data.get("payload")
                    await self._notify()
        finally:
            self._sockets.remove(ws)
            await self._notify()
        return ws

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours."""
        await self.wait(lambda s: s._sockets)
        await self._sockets[-1].send_json({"type": "disconnect", "reason": reason})
