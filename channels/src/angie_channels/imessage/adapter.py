"""iMessage through a BlueBubbles server: BlueBubbles' webhooks in, its REST API out.

BlueBubbles cannot sign webhooks, so each one must carry the channel's webhook secret in its
address (``…?secret=<webhook secret>``); iMessage has no buttons, so approvals are answered by
a reply ``yes <code>`` / ``no <code>``. Thread ids are BlueBubbles chat guids
(``iMessage;-;+15551234567``); sender ids are the normalised phone number or email address.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import OrderedDict

import httpx

from angie_channels.base import (
    ApprovalAsk,
    ChannelError,
    Decision,
    Hub,
    Inbound,
    Outbound,
    Sender,
    Sent,
    State,
    WebhookReply,
    WebhookRequest,
)
from angie_channels.imessage.client import BlueBubblesClient, is_already_queued
from angie_channels.imessage.settings import IMessageSecrets, IMessageSettings
from angie_channels.imessage.webhook import (
    NEW_MESSAGE,
    NewMessage,
    PayloadError,
    addressed_to_angie,
    new_message,
    read_event,
    secret_matches,
)

__all__ = ("IMessageChannel", "create")

log = logging.getLogger(__name__)

_DECISION = re.compile(r"^(yes|y|approve|no|n|deny)\s+(\d{4,8})$", re.IGNORECASE)
_APPROVE = frozenset({"yes", "y", "approve"})
# Sends that failed in a way that may be retried, by (thread, text): a retry of the same
# message reuses its tempGuid. Bounded, since a message Angie gives up on never comes back.
_UNSETTLED_LIMIT = 256


def create(
    settings: IMessageSettings,
    secrets: IMessageSecrets,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> IMessageChannel:
    """An iMessage channel for these settings; ``transport`` (an httpx transport) and
    ``timeout`` (seconds per BlueBubbles call) let tests reach a fake server."""
    if not settings.server_url or not secrets.password or not secrets.webhook_secret:
        raise ChannelError(
            "iMessage needs the BlueBubbles server address, its password and a webhook secret; "
            "set them with `angie config imessage`.",
            permanent=True,
        )
    client = BlueBubblesClient(
        settings.server_url, secrets.password, transport=transport, timeout=timeout
    )
    return IMessageChannel(client, secrets.webhook_secret)


class IMessageChannel:
    """One BlueBubbles server for one person."""

    kind = "imessage"

    def __init__(self, client: BlueBubblesClient, webhook_secret: str) -> None:
        self._client = client
        self._webhook_secret = webhook_secret
        self._hub: Hub | None = None
        self._connecting: asyncio.Task[None] | None = None
        # AppleScript works on every server; the Private API only where it is switched on.
        self._method = "apple-script"
        # (thread, text) → (tempGuid, when first tried)
        self._unsettled: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    async def check(self) -> str:
        await self._client.ping()
        info = await self._client.server_info()
        self._method = "private-api" if info.get("private_api") is True else "apple-script"
        version = info.get("server_version")
        name = f"BlueBubbles {version}" if isinstance(version, str) and version else "BlueBubbles"
        return f"{name} at {self._client.base_url}"

    async def start(self, hub: Hub) -> None:
        self._hub = hub
        hub.report(State.CONNECTING)
        self._connecting = asyncio.create_task(self._connect(hub))

    async def _connect(self, hub: Hub) -> None:
        try:
            detail = await self.check()
        except ChannelError as err:
            hub.report(State.FAILED, str(err))
        else:
            hub.report(State.CONNECTED, detail)

    async def stop(self) -> None:
        self._hub = None
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        await self._client.aclose()

    async def send(self, message: Outbound) -> Sent:
        key = (message.thread, message.text)
        earlier = self._unsettled.pop(key, None)
        temp_guid, first_tried = earlier or (str(uuid.uuid4()), time.time())
        try:
            data = await self._client.send_text(
                message.thread,
                message.text,
                temp_guid,
                self._method,
                first_tried=first_tried,
                again=earlier is not None,
            )
        except ChannelError as err:
            if is_already_queued(err):
                # The same message (same tempGuid) is still on its way out from an earlier
                # attempt: it is being sent, and sending it again would send it twice.
                return Sent(message_id=temp_guid)
            if not err.permanent:
                self._unsettle(key, temp_guid, first_tried)
            raise
        guid = data.get("guid")
        return Sent(message_id=guid if isinstance(guid, str) and guid else temp_guid)

    def _unsettle(self, key: tuple[str, str], temp_guid: str, first_tried: float) -> None:
        self._unsettled[key] = (temp_guid, first_tried)
        while len(self._unsettled) > _UNSETTLED_LIMIT:
            self._unsettled.popitem(last=False)

    async def ask_approval(self, ask: ApprovalAsk) -> Sent:
        text = f'{ask.text}\n\nReply "yes {ask.code}" to approve or "no {ask.code}" to deny.'
        return await self.send(Outbound(ask.thread, text, ask.mention))

    async def show_decision(self, thread: str, message_id: str, text: str) -> None:
        # iMessage cannot edit a message another device may have shown: the decision is a reply.
        await self.send(Outbound(thread, text))

    def mention(self, sender_id: str) -> str:
        # iMessage has no @-mentions in plain text, and Angie does not know contacts' names.
        return ""

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        if request.method.upper() != "POST":
            return _reply(405, "BlueBubbles webhooks are POSTed", {"Allow": "POST"})
        if not secret_matches(request.query.get("secret"), self._webhook_secret):
            return _reply(401, "wrong or missing webhook secret")
        hub = self._hub
        if hub is None:
            return _reply(503, "the iMessage channel is not running")
        try:
            kind, data = read_event(request.body)
            if kind != NEW_MESSAGE:
                return _reply(200, f"ignored: {kind}")
            message = new_message(data)
        except PayloadError as err:
            return _reply(400, str(err))
        if message is None:
            return _reply(200, "ignored: not a message for Angie")
        await self._hand_over(hub, message)
        return _reply(200, "ok")

    async def _hand_over(self, hub: Hub, message: NewMessage) -> None:
        sender = Sender(message.address)
        text = message.text.strip()
        addressed = addressed_to_angie(text)
        body = text if addressed is None else addressed
        decision = _DECISION.fullmatch(body)
        if decision is not None:
            # A reply to an approval request: in a group chat too, since the request itself
            # asked for a bare "yes <code>".
            answer, code = decision.groups()
            said = await hub.decided(
                Decision(
                    sender,
                    message.chat_guid,
                    answer.lower() in _APPROVE,
                    code=code,
                    message_id=message.guid,
                )
            )
            if said:
                await self._say(message.chat_guid, said)
            return
        if message.group and addressed is None:
            return  # group chatter that is not for Angie
        await hub.received(
            Inbound(
                message_id=message.guid,
                sender=sender,
                thread=message.chat_guid,
                text=body,
                direct=not message.group,
            )
        )

    async def _say(self, thread: str, text: str) -> None:
        # The decision is made whether or not its confirmation reaches the chat.
        try:
            await self.send(Outbound(thread, text))
        except ChannelError as err:
            log.warning("iMessage: the decision was applied but its reply failed: %s", err)


def _reply(status: int, text: str, headers: dict[str, str] | None = None) -> WebhookReply:
    return WebhookReply(
        status,
        text.encode(),
        {"Content-Type": "text/plain; charset=utf-8", **(headers or {})},
    )
