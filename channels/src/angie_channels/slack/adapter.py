"""Angie on Slack: a slack-bolt async app over Socket Mode (app token) or signed HTTP events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.async_app import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from angie_channels.base import (
    ApprovalAsk,
    ChannelError,
    Hub,
    Outbound,
    Sent,
    State,
    WebhookReply,
    WebhookRequest,
)
from angie_channels.slack.errors import slack_errors
from angie_channels.slack.messages import (
    APPROVE,
    DENY,
    Place,
    approval_blocks,
    decided_blocks,
    decision_from,
    escaped,
    inbound_from,
    question_of,
    user_of,
)
from angie_channels.slack.settings import SlackSecrets, SlackSettings
from angie_channels.slack.socket import SlackSocket

__all__ = ("SlackChannel", "create")

_log = logging.getLogger(__name__)

# What Angie needs of the bot token: to write, and to read DMs and mentions of her.
_SCOPES = ("chat:write", "app_mentions:read", "im:history")
_REFUSED = "Only the person who asked can decide this."
_JSON = {"Content-Type": "application/json"}


def create(
    settings: SlackSettings, secrets: SlackSecrets, *, api_url: str | None = None
) -> SlackChannel:
    """A Slack channel: Socket Mode when ``secrets.app_token`` is set, else the Events API over
    HTTP (``webhook``) checked with ``secrets.signing_secret``. ``api_url`` is the Web API's
    base URL (``http://127.0.0.1:PORT/api/`` for a fake)."""
    if not secrets.bot_token:
        raise ChannelError("Slack needs the app's bot token (xoxb-…).", permanent=True)
    if not (secrets.app_token or secrets.signing_secret):
        raise ChannelError(
            "Slack needs an app-level token (Socket Mode) or the app's signing secret.",
            permanent=True,
        )
    return SlackChannel(settings, secrets, api_url=api_url)


class SlackChannel:
    """One Slack workspace, as Angie's bot user there."""

    kind = "slack"
    # How often slack_sdk pings Slack and, when the connection was lost, opens a new one (s).
    ping_interval: float = 10.0

    def __init__(
        self, settings: SlackSettings, secrets: SlackSecrets, *, api_url: str | None = None
    ) -> None:
        assert secrets.bot_token is not None
        self._settings = settings
        self._app_token = secrets.app_token
        http = secrets.app_token is None
        self._verifier = (
            SignatureVerifier(secrets.signing_secret)
            if http and secrets.signing_secret is not None
            else None
        )
        # slack_sdk retries a refused connection once and a 429 once, after its Retry-After.
        self._client = AsyncWebClient(
            token=secrets.bot_token,
            base_url=api_url or AsyncWebClient.BASE_URL,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            ],
        )
        self._app = AsyncApp(
            client=self._client,
            signing_secret=secrets.signing_secret if http else None,
            # Socket Mode envelopes are not signed; signed requests are checked in webhook().
            request_verification_enabled=http,
        )
        self._app.event("message")(self._on_event)
        self._app.event("app_mention")(self._on_event)
        self._app.action(APPROVE)(self._on_click)
        self._app.action(DENY)(self._on_click)
        # Acknowledge every other event the app is subscribed to: bolt answers an unhandled one
        # with 404 (unacked over Socket Mode), and Slack retries it, then disables the events.
        self._app.event(re.compile(".*"))(_ignore)
        self._hub: Hub | None = None
        self._bot_user: str | None = None
        self._team: str | None = None
        self._socket: SlackSocket | None = None
        self._connecting: asyncio.Task[None] | None = None

    # -- the Channel protocol

    async def check(self) -> str:
        with slack_errors():
            response = await self._client.auth_test()
        self._bot_user, self._team = response.get("user_id"), response.get("team_id")
        granted = response.headers.get("x-oauth-scopes") if response.headers else None
        if granted is not None:
            missing = [s for s in _SCOPES if s not in {g.strip() for g in granted.split(",")}]
            if missing:
                raise ChannelError(
                    f"The Slack app lacks the {', '.join(missing)} scope: add it under "
                    "OAuth & Permissions and reinstall the app.",
                    permanent=True,
                )
        return f"@{response.get('user')} in {response.get('team')} ({self._team})"

    async def start(self, hub: Hub) -> None:
        self._hub = hub
        self._connecting = asyncio.create_task(self._connect(hub), name="slack-connect")

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
            self._connecting = None
        if self._socket is not None:
            await self._socket.shut()
            self._socket = None
        self._hub = None

    async def send(self, message: Outbound) -> Sent:
        place = self._place(message.thread)
        text = escaped(message.text)
        if message.mention:
            text = f"{self.mention(message.mention)} {text}"
        return await self._post(place, text=text)

    async def ask_approval(self, ask: ApprovalAsk) -> Sent:
        place = self._place(ask.thread)
        question = escaped(ask.text)
        if ask.mention:
            question = f"{self.mention(ask.mention)} {question}"
        return await self._post(place, text=question, blocks=approval_blocks(question, ask.ref))

    async def show_decision(self, thread: str, message_id: str, text: str) -> None:
        # message_id is the ts Sent carried, or "C…:ts" (any prefix before the channel ignored).
        head, _, ts = message_id.rpartition(":")
        channel = head.rpartition(":")[2] or Place.parse(thread).channel
        text = escaped(text)
        await self._update(channel, ts, text, decided_blocks(None, text))

    def mention(self, sender_id: str) -> str:
        return f"<@{user_of(sender_id)}>"

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        if self._verifier is None:
            return WebhookReply(404, b'{"error":"this Slack channel uses Socket Mode"}', _JSON)
        headers: dict[str, str | Sequence[str]] = {
            name.lower(): value for name, value in request.headers.items()
        }
        if not self._signed(request.body, headers):
            return WebhookReply(401, b'{"error":"invalid signature"}', _JSON)
        if self._hub is None and not _is_url_verification(request.body):
            # Not started yet: Slack retries, so nothing is lost.
            return WebhookReply(503, b'{"error":"not started"}', _JSON)
        bolt_request = AsyncBoltRequest(
            body=request.body.decode("utf-8"), query=dict(request.query), headers=headers
        )
        response = await self._app.async_dispatch(bolt_request)
        return WebhookReply(response.status, response.body.encode(), response.first_headers())

    # -- connecting

    async def _connect(self, hub: Hub) -> None:
        delay = 1.0
        while True:
            try:
                await self.check()
                hub.report(State.CONNECTING)
                if self._app_token is None:
                    hub.report(State.CONNECTED)
                else:
                    await self._open_socket(self._app_token, hub)
                return
            except ChannelError as err:
                hub.report(State.FAILED, str(err))
                if err.permanent:
                    return
                await asyncio.sleep(err.retry_after or delay)
                delay = min(delay * 2, 60.0)

    async def _open_socket(self, app_token: str, hub: Hub) -> None:
        if self._socket is None:
            self._socket = SlackSocket(
                self._app, app_token, hub.report, ping_interval=self.ping_interval
            )
        await self._socket.open()

    # -- what Slack sends

    async def _on_event(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        hub = self._hub
        team = body.get("team_id") or self._team or ""
        inbound = inbound_from(event, team, self._bot_user)
        if hub is not None and inbound is not None:
            await hub.received(inbound)

    async def _on_click(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        hub, parsed = self._hub, decision_from(body)
        if hub is None or parsed is None:
            return
        decision, place, ts = parsed
        outcome = await hub.decided(decision)
        user = user_of(decision.sender.id)
        try:
            if outcome is None:
                with slack_errors(channel=place.channel):
                    await self._client.chat_postEphemeral(
                        channel=place.channel, user=user, text=_REFUSED, thread_ts=place.thread_ts
                    )
                return
            # Angie's words for the outcome ("✅ Approved by Sam."), shown as they are.
            shown = escaped(outcome)
            question = question_of(body.get("message") or {})
            await self._update(place.channel, ts, shown, decided_blocks(question, shown))
        except ChannelError as err:
            _log.warning("Slack: could not show the decision on %s: %s", place.channel, err)

    # -- the Web API

    def _place(self, thread: str) -> Place:
        thread = thread or (self._settings.default_channel or "")
        if not thread:
            raise ChannelError(
                "No Slack channel to post in: set the default channel (e.g. #angie).",
                permanent=True,
            )
        return Place.parse(thread)

    async def _post(
        self, place: Place, *, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> Sent:
        with slack_errors(channel=place.channel):
            response = await self._client.chat_postMessage(
                channel=place.channel, thread_ts=place.thread_ts, text=text, blocks=blocks
            )
        ts = str(response["ts"])
        return Sent(ts, Place(str(response["channel"]), place.thread_ts).thread(ts))

    async def _update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        with slack_errors(channel=channel):
            await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def _signed(self, body: bytes, headers: Mapping[str, object]) -> bool:
        assert self._verifier is not None
        timestamp, signature = (
            headers.get(f"x-slack-{n}") for n in ("request-timestamp", "signature")
        )
        if not (isinstance(timestamp, str) and isinstance(signature, str)):
            return False
        try:
            return self._verifier.is_valid(body, timestamp, signature)
        except ValueError:  # a timestamp that is not a number, a body that is not UTF-8
            return False


async def _ignore() -> None:
    return None


def _is_url_verification(body: bytes) -> bool:
    try:
        loaded = json.loads(body)
    except ValueError:
        return False
    return isinstance(loaded, dict) and loaded.get("type") == "url_verification"
