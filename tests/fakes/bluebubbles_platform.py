"""A fake BlueBubbles server on 127.0.0.1 for the iMessage channel's tests (and Angie's
end-to-end tests): the REST calls Angie makes, checked as BlueBubbles checks them, and the
``new-message`` webhooks BlueBubbles posts.

    async with FakeBlueBubbles(password="bb-pass", webhook_secret="s" * 24) as bb:
        bb.webhook_url = "http://127.0.0.1:8000/api/channels/imessage/webhook"
        await bb.incoming("+15551234567", "hello")        # a person writes to Angie
        bb.sent                                           # what BlueBubbles sent for Angie
        bb.fail(503, times=2)                             # the next two REST calls fail
        bb.fail(503, path="/api/v1/message/text")         # the next send fails
        bb.slow_sends = 2.0                               # each send takes 2 s (in flight)
        bb.answer_late(times=1)                           # the next send is made, answer: 504
        await bb.go_down(); await bb.come_back()          # connection refused, then back

Like BlueBubbles: the password goes in the query (``password``, ``guid`` or ``token``); a
``tempGuid`` still being sent is refused (400 "already queued"), but once a send is over the
same tempGuid sends again, as on a real server. ``GET /api/v1/chat/<guid>/message`` lists a
chat's messages (both ways), newest first.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

__all__ = (
    "FakeBlueBubbles",
    "RestCall",
    "SentText",
    "WebhookAnswer",
    "direct_chat",
    "group_chat",
)

_METHODS = ("apple-script", "private-api")


def direct_chat(address: str) -> str:
    """The chat guid of a one-to-one iMessage chat with ``address``."""
    return f"iMessage;-;{address}"


def group_chat(name: str = "chat123456789") -> str:
    """The chat guid of a group chat."""
    return f"iMessage;+;{name}"


@dataclass(frozen=True, slots=True)
class SentText:
    """A message BlueBubbles sent for Angie."""

    chat_guid: str
    temp_guid: str
    text: str
    method: str
    guid: str


@dataclass(frozen=True, slots=True)
class RestCall:
    """A REST call the server received (whether or not it was accepted)."""

    method: str
    path: str
    body: Any = None  # the JSON body, if any


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """What Angie answered a webhook with."""

    status: int
    text: str


@dataclass
class FakeBlueBubbles:
    """A BlueBubbles server: start it with ``async with``; ``url`` is its address."""

    password: str = "bb-password"
    webhook_secret: str = "webhook-secret-for-tests"
    server_version: str = "1.9.9"
    private_api: bool = False
    webhook_url: str | None = None  # where webhooks go (Angie's webhook address, no query)
    slow_sends: float = 0.0  # seconds each send stays in flight
    sent: list[SentText] = field(default_factory=list)
    calls: list[RestCall] = field(default_factory=list)
    _failures: list[tuple[int, float | None, str | None]] = field(default_factory=list)
    _late_answers: int = 0
    _chats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _in_flight: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None
    _port: int = 0
    _session: aiohttp.ClientSession | None = None
    _sends: set[asyncio.Task[SentText]] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _sent_more: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def text_posts(self) -> list[Any]:
        """The bodies of every ``POST /api/v1/message/text`` received, refused ones too."""
        return [c.body for c in self.calls if c.path == "/api/v1/message/text"]

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/api/v1/ping", self._ping)
        app.router.add_get("/api/v1/server/info", self._info)
        app.router.add_post("/api/v1/message/text", self._send_text)
        app.router.add_get("/api/v1/chat/{guid}/message", self._chat_messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self._listen()
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.gather(*self._sends, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await self._site.start()
        server = self._site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    # What a test does to the server.

    def fail(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``times`` REST calls (to ``path`` only, if given) answer ``status`` (a 429
        with ``retry_after``)."""
        self._failures.extend([(status, retry_after, path)] * times)

    def answer_late(self, times: int = 1) -> None:
        """The next ``times`` sends are made, but answered with BlueBubbles' own 504 (its
        response timeout), as when Messages takes long: the caller cannot tell it was sent."""
        self._late_answers += times

    async def go_down(self) -> None:
        """Stop listening: calls are refused until :meth:`come_back`."""
        assert self._site is not None
        assert self._runner is not None
        await self._site.stop()
        # Open keep-alive connections go too, as when the Mac sleeps or the server quits.
        if self._runner.server is not None:
            await self._runner.server.shutdown(0.1)

    async def come_back(self) -> None:
        await self._listen()

    async def wait_sent(self, count: int = 1, within: float = 10.0) -> list[SentText]:
        """Until at least ``count`` messages were sent."""
        async with asyncio.timeout(within):
            while len(self.sent) < count:
                self._sent_more.clear()
                await self._sent_more.wait()
        return self.sent

    # Webhooks, as BlueBubbles posts them.

    async def incoming(
        self,
        address: str,
        text: str | None,
        *,
        chat_guid: str | None = None,
        guid: str | None = None,
        from_me: bool = False,
        secret: str | None = None,
    ) -> WebhookAnswer:
        """``address`` wrote ``text`` in ``chat_guid`` (default: their one-to-one chat);
        posts the ``new-message`` webhook with ``secret`` (default: the right one)."""
        chat = chat_guid or direct_chat(address)
        message = self.message(address, text, chat_guid=chat, guid=guid, from_me=from_me)
        self._chats.setdefault(chat, []).append(message)
        return await self.post_event("new-message", message, secret=secret)

    def message(
        self,
        address: str,
        text: str | None,
        *,
        chat_guid: str,
        guid: str | None = None,
        from_me: bool = False,
    ) -> dict[str, Any]:
        """A message as BlueBubbles serialises it in a ``new-message`` event."""
        row = next(self._ids)
        group = ";+;" in chat_guid
        return {
            "originalROWID": row,
            "guid": guid or str(uuid.uuid4()).upper(),
            "text": text,
            "attributedBody": None,
            "handle": None
            if from_me
            else {
                "originalROWID": 7,
                "address": address,
                "service": "iMessage",
                "country": "us",
                "uncanonicalizedId": None,
            },
            "handleId": 0 if from_me else 7,
            "otherHandle": 0,
            "attachments": [],
            "subject": None,
            "error": 0,
            "dateCreated": int(time.time() * 1000),
            "dateRead": None,
            "dateDelivered": None,
            "isDelivered": from_me,
            "isFromMe": from_me,
            "hasDdResults": False,
            "isArchived": False,
            "itemType": 0,
            "groupTitle": None,
            "groupActionType": 0,
            "balloonBundleId": None,
            "associatedMessageGuid": None,
            "associatedMessageType": None,
            "expressiveSendStyleId": None,
            "threadOriginatorGuid": None,
            "hasPayloadData": False,
            "chats": [
                {
                    "originalROWID": 3,
                    "guid": chat_guid,
                    "style": 43 if group else 45,
                    "chatIdentifier": chat_guid.split(";", 2)[2],
                    "isArchived": False,
                    "displayName": "Home" if group else "",
                }
            ],
        }

    async def post_event(self, kind: str, data: Any, *, secret: str | None = None) -> WebhookAnswer:
        """Posts ``{"type": kind, "data": data}`` to the webhook address."""
        return await self.post_raw(json.dumps({"type": kind, "data": data}).encode(), secret)

    async def post_raw(self, body: bytes, secret: str | None = None) -> WebhookAnswer:
        """Posts ``body`` as it is; ``secret=""`` leaves the secret out of the address."""
        assert self._session is not None, "start the fake with async with"
        assert self.webhook_url is not None, "set webhook_url to Angie's webhook address"
        secret = self.webhook_secret if secret is None else secret
        params = {"secret": secret} if secret else {}
        async with self._session.post(
            self.webhook_url,
            data=body,
            params=params,
            headers={"Content-Type": "application/json"},
        ) as response:
            return WebhookAnswer(response.status, await response.text())

    # The REST API.

    def _refusal(self, request: web.Request, body: Any = None) -> web.Response | None:
        self.calls.append(RestCall(request.method, request.path, body))
        query = request.query
        token = query.get("guid") or query.get("password") or query.get("token")
        if not token:
            return _error(401, "Unauthorized", "Missing server password!")
        if token.strip() != self.password.strip():
            return _error(401, "Unauthorized", "Unauthorized")
        failure = next((f for f in self._failures if f[2] in (None, request.path)), None)
        if failure is not None:
            self._failures.remove(failure)
            status, retry_after, _ = failure
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            return _error(status, "Server Error", "failing on purpose", headers)
        return None

    async def _ping(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        return refused or _ok("Ping received!", "pong")

    async def _info(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        return refused or _ok(
            "Success",
            {
                "computer_id": "fake-mac",
                "os_version": "15.1",
                "server_version": self.server_version,
                "private_api": self.private_api,
                "proxy_service": "lan-url",
                "helper_connected": self.private_api,
                "detected_icloud": "angie@icloud.com",
                "detected_imessage": "angie@icloud.com",
            },
        )

    async def _send_text(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        refused = self._refusal(request, body)
        if refused is not None:
            return refused
        problem = _text_problem(body)
        if problem is not None:
            return _error(400, "Bad Request", problem)
        method = body.get("method") or "apple-script"
        if method == "private-api" and not self.private_api:
            return _error(500, "iMessage Error", "iMessage Private API Helper is not connected!")
        temp_guid = body.get("tempGuid") or ""
        if temp_guid and temp_guid in self._in_flight:
            message = f"Message is already queued to be sent! (Temp GUID: {temp_guid})"
            return _error(400, "Bad Request", message)
        self._in_flight.add(temp_guid)
        # The send goes on even if the caller stops waiting, as Messages' does.
        task = asyncio.create_task(self._deliver(body, method, temp_guid))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)
        sent = await asyncio.shield(task)
        if self._late_answers:
            self._late_answers -= 1
            return _error(504, "Gateway Timeout", "The request took too long to respond")
        return _ok("Message sent!", {**self._chats[sent.chat_guid][-1], "tempGuid": temp_guid})

    async def _chat_messages(self, request: web.Request) -> web.Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        chat = request.match_info["guid"]
        if chat not in self._chats:
            return _error(404, "Database Error", "Chat does not exist!")
        query = request.query
        try:
            after = int(query.get("after", "0"))
            limit = int(query.get("limit", "100"))
        except ValueError:
            return _error(400, "Bad Request", "after and limit must be numbers")
        if query.get("sort", "DESC") not in ("ASC", "DESC") or not 1 <= limit <= 1000:
            return _error(400, "Bad Request", "The selected sort or limit is invalid.")
        found = [m for m in self._chats[chat] if m["dateCreated"] > after]
        if query.get("sort", "DESC") == "DESC":
            found.reverse()
        return _ok("Success", found[:limit])

    async def _deliver(self, body: dict[str, Any], method: str, temp_guid: str) -> SentText:
        try:
            if self.slow_sends:
                await asyncio.sleep(self.slow_sends)
            chat = body["chatGuid"]
            message = self.message("", body["message"], chat_guid=chat, from_me=True)
            self._chats.setdefault(chat, []).append(message)
            sent = SentText(chat, temp_guid, body["message"], method, message["guid"])
            self.sent.append(sent)
            self._sent_more.set()
            return sent
        finally:
            self._in_flight.discard(temp_guid)


def _text_problem(body: Any) -> str | None:
    """What BlueBubbles' validator says of a /message/text body (None: it is fine)."""
    if not isinstance(body, dict):
        return "The body is not a JSON object"
    chat_guid = body.get("chatGuid")
    if not isinstance(chat_guid, str) or not chat_guid:
        return "The chatGuid field is required."
    if chat_guid.count(";") < 2 or chat_guid.split(";")[1] not in ("-", "+"):
        return f"Chat does not exist: {chat_guid}"
    if "message" not in body or not isinstance(body["message"], str):
        return "The message field must be present and a string."
    method = body.get("method", "apple-script")
    if method not in _METHODS:
        return "The selected method is invalid."
    temp_guid = body.get("tempGuid")
    if temp_guid is not None and not isinstance(temp_guid, str):
        return "The tempGuid must be a string."
    if method == "apple-script" and not temp_guid:
        return "A 'tempGuid' is required when sending via AppleScript"
    if not body["message"]:
        return "A 'message' is required when sending via AppleScript"
    return None


def _ok(message: str, data: Any) -> web.Response:
    return web.json_response({"status": 200, "message": message, "data": data})


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "status": status,
        "message": kind,
        "error": {"type": kind, "message": message},
    }
    return web.json_response(body, status=status, headers=headers)
