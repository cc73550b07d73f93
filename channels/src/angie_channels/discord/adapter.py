"""Angie as a Discord bot (discord.py): DMs and @-mentions in, replies in the same DM or in a
thread under the mention, approvals as Approve / Deny buttons.

Thread ids Angie keeps: a DM is its channel id (``"1180…"``); a mention in a server channel is
``"<channel id>:<message id>"``, the thread Angie answers in, started from that message on the
first reply (Discord gives such a thread the message's id, so the same string names it after
a restart); a mention inside a thread is ``"<parent channel id>:<thread id>"`` (the same form).
Sender ids are Discord user ids (global on Discord).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient

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
from angie_channels.discord import approvals, errors, transport
from angie_channels.discord.settings import DiscordSecrets, DiscordSettings

__all__ = ("DiscordChannel", "create")

_log = logging.getLogger(__name__)

_LIMIT = 2000  # characters in one Discord message
_MAX_RATE_LIMIT_WAIT = 30.0  # longer 429 waits go back to Angie's ledger as retry_after
_NOT_YOURS = "Only the person who asked can decide this."
_NOT_RECORDED = "Angie could not record that just now; please press the button again."
_UNKNOWN_CHANNEL, _THREAD_EXISTS = 10003, 160004  # Discord's JSON error codes


def _intents() -> discord.Intents:
    # Least privilege: servers and their channels/threads (to resolve where a message is),
    # messages in servers, and DMs. No members or presences. MESSAGE_CONTENT (privileged) is
    # not needed: Discord includes the text of DMs and of messages that mention the bot anyway.
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    return intents


def create(
    settings: DiscordSettings, secrets: DiscordSecrets, *, api_url: str | None = None
) -> DiscordChannel:
    """A Discord channel; ``api_url`` replaces ``https://discord.com/api/v10`` (tests, proxies)."""
    return DiscordChannel(settings, secrets, api_url=api_url)


class _Bot(discord.Client):
    """discord.py's client with the adapter's REST base and event handlers."""

    def __init__(self, channel: DiscordChannel, *, api_url: str | None) -> None:
        self._api_url = api_url
        self._angie = channel
        super().__init__(
            intents=_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,  # Angie needs no message cache
            max_ratelimit_timeout=_MAX_RATE_LIMIT_WAIT,
        )
        self.add_dynamic_items(approvals.ApprovalButton)

    def _get_state(self, **options: Any) -> Any:
        # discord.Client makes its REST client just before its state, which shares it: swap it
        # here so both use the one pointed at api_url.
        if self._api_url is not None:
            self.http = _http_like(self.http, self._api_url)
        return super()._get_state(**options)

    async def on_ready(self) -> None:
        self._angie._report(State.CONNECTED, _who(self.user))

    async def on_resumed(self) -> None:
        self._angie._report(State.CONNECTED, _who(self.user))

    async def on_disconnect(self) -> None:
        if not self.is_closed():  # discord.py reconnects by itself
            self._angie._report(State.CONNECTING, "reconnecting to Discord")

    async def on_message(self, message: discord.Message) -> None:
        await self._angie._received(message)

    async def on_angie_approval(
        self, interaction: discord.Interaction[discord.Client], approve: bool, ref: str
    ) -> None:
        await self._angie._clicked(interaction, approve, ref)


def _http_like(old: HTTPClient, api_url: str) -> HTTPClient:
    return transport.http_client(
        old.loop,
        api_url,
        connector=old.connector or None,
        proxy=old.proxy,
        proxy_auth=old.proxy_auth,
        unsync_clock=not old.use_clock,
        http_trace=old.http_trace,
        max_ratelimit_timeout=old.max_ratelimit_timeout,
    )


class DiscordChannel:
    """One Discord bot for one household."""

    kind = "discord"

    def __init__(
        self, settings: DiscordSettings, secrets: DiscordSecrets, *, api_url: str | None = None
    ) -> None:
        self._guild_id = int(settings.guild_id) if settings.guild_id else None
        self._token = secrets.bot_token
        self._api_url = api_url
        self._hub: Hub | None = None
        self._client: _Bot | None = None
        self._task: asyncio.Task[None] | None = None
        # What a mention asked, to name the thread its first reply starts (bounded; a name is
        # only a courtesy, "Angie" does when it was forgotten).
        self._topics: OrderedDict[str, str] = OrderedDict()

    # -- the Channel protocol ---------------------------------------------------------------

    async def check(self) -> str:
        token = self._bot_token()
        http = transport.http_client(asyncio.get_running_loop(), self._api_url)
        try:
            with errors.translated():
                me = await http.static_login(token)
        finally:
            await http.close()
        return _who_payload(me)

    async def start(self, hub: Hub) -> None:
        if self._task is not None and not self._task.done():
            return
        token = self._bot_token()
        self._hub = hub
        hub.report(State.CONNECTING)
        self._client = _Bot(self, api_url=self._api_url)
        self._task = asyncio.create_task(self._run(self._client, token), name="angie-discord")

    async def stop(self) -> None:
        client, task = self._client, self._task
        self._client = self._task = None
        if client is not None:
            await client.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, message: Outbound) -> Sent:
        sent = await self._post(message.thread, message.text, message.mention, None)
        return Sent(str(sent.id))

    async def ask_approval(self, ask: ApprovalAsk) -> Sent:
        try:
            view = approvals.approval_view(ask.ref)
        except ValueError as err:
            raise ChannelError(
                f"Discord cannot carry this approval: {err}.", permanent=True
            ) from err
        sent = await self._post(ask.thread, ask.text, ask.mention, view)
        return Sent(str(sent.id))

    async def show_decision(self, thread: str, message_id: str, text: str) -> None:
        client = self._connected()
        channel = client.get_partial_messageable(_target(thread))
        with errors.translated():
            await channel.get_partial_message(int(message_id)).edit(
                content=_clip(text), view=None, allowed_mentions=discord.AllowedMentions.none()
            )

    def mention(self, sender_id: str) -> str:
        return f"<@{sender_id}>"

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        return WebhookReply(404)  # Discord reaches Angie over the gateway, never by webhook

    # -- running ----------------------------------------------------------------------------

    async def _run(self, client: _Bot, token: str) -> None:
        transport.route_interactions(self._api_url)  # this task and the ones it starts
        try:
            await client.start(token)
        except discord.LoginFailure as err:
            self._report(State.FAILED, f"Discord refused the bot token: {err}")
        except discord.PrivilegedIntentsRequired:
            self._report(
                State.FAILED,
                "Discord refused the bot's gateway intents (close code 4014): enable them for"
                " the bot in the Discord developer portal (Bot → Privileged Gateway Intents).",
            )
        except discord.ConnectionClosed as err:
            self._report(State.FAILED, f"Discord closed the connection (code {err.code}): {err}")
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as err:
            self._report(State.FAILED, f"Could not connect to Discord: {err}")
        except Exception as err:  # discord.py's own slips (an unreachable first gateway)
            _log.exception("The Discord connection stopped")
            self._report(State.FAILED, f"The Discord connection stopped: {err!r}")
        finally:
            await client.close()

    def _report(self, state: State, detail: str | None = None) -> None:
        if self._hub is not None:
            self._hub.report(state, detail)

    def _bot_token(self) -> str:
        if not self._token:
            raise ChannelError("Discord needs the bot's token.", permanent=True)
        return self._token

    def _connected(self) -> _Bot:
        client = self._client
        if client is None or client.is_closed() or client.user is None:
            raise ChannelError("Angie is not connected to Discord yet.")
        return client

    # -- inbound ----------------------------------------------------------------------------

    async def _received(self, message: discord.Message) -> None:
        inbound = self._inbound(message)
        if inbound is not None and self._hub is not None:
            await self._hub.received(inbound)

    def _inbound(self, message: discord.Message) -> Inbound | None:
        client = self._client
        me = client.user if client is not None else None
        author = message.author
        if me is None or author.bot or message.webhook_id or author.id == me.id:
            return None
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return None
        sender = Sender(str(author.id), author.display_name)
        channel = message.channel
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        guild_id = message.guild.id if message.guild else getattr(channel, "guild_id", None)
        if guild_id is None:
            return Inbound(str(message.id), sender, str(channel.id), text)
        if self._guild_id is not None and guild_id != self._guild_id:
            return None
        if me.id not in message.raw_mentions:
            return None
        if isinstance(channel, discord.Thread):
            thread = f"{channel.parent_id}:{channel.id}"
        elif isinstance(channel, discord.TextChannel):
            thread = f"{channel.id}:{message.id}"
            self._remember_topic(thread, text)
        else:  # a channel discord.py does not know (voice chat, …): answer in place
            thread = str(channel.id)
        return Inbound(str(message.id), sender, thread, text, direct=False)

    def _remember_topic(self, thread: str, text: str) -> None:
        self._topics[thread] = " ".join(text.split())[:90] or "Angie"
        while len(self._topics) > 256:
            self._topics.popitem(last=False)

    async def _clicked(
        self, interaction: discord.Interaction[discord.Client], approve: bool, ref: str
    ) -> None:
        if self._hub is None:
            return
        user = interaction.user
        decision = Decision(
            sender=Sender(str(user.id), user.display_name),
            thread=_thread_of(interaction.channel, interaction.channel_id),
            approve=approve,
            ref=ref,
            message_id=str(interaction.id),
        )
        # Discord wants an answer to a click within 3 s, and Angie's side may take longer:
        # acknowledge now (the message stays as it is), then edit it or answer the clicker.
        await interaction.response.defer()
        try:
            text = await self._hub.decided(decision)
        except Exception:
            await interaction.followup.send(_NOT_RECORDED, ephemeral=True)
            raise  # discord.py logs it
        if text is None:
            await interaction.followup.send(_NOT_YOURS, ephemeral=True)
        else:
            await interaction.edit_original_response(content=_clip(text), view=None)

    # -- outbound ---------------------------------------------------------------------------

    async def _post(
        self, thread: str, text: str, mention: str | None, view: discord.ui.View | None
    ) -> discord.Message:
        client = self._connected()
        parts = _split(f"<@{mention}> {text}" if mention else text)
        last: discord.Message | None = None
        with errors.translated():
            for index, part in enumerate(parts):
                buttons = view if index == len(parts) - 1 else None
                last = await self._post_one(client, thread, part, mention, buttons)
        assert last is not None  # _split always returns at least one part
        return last

    async def _post_one(
        self,
        client: _Bot,
        thread: str,
        text: str,
        mention: str | None,
        view: discord.ui.View | None,
    ) -> discord.Message:
        # Only the person Angie addresses is pinged: no @everyone, roles or other users.
        allowed = (
            discord.AllowedMentions(
                everyone=False,
                roles=False,
                replied_user=False,
                users=[discord.Object(int(mention))],
            )
            if mention
            else discord.AllowedMentions.none()
        )
        channel = client.get_partial_messageable(_target(thread))
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        try:
            return await channel.send(text, allowed_mentions=allowed, **extra)
        except discord.NotFound as err:
            parent, _, message_id = thread.rpartition(":")
            if not parent or err.code != _UNKNOWN_CHANNEL:
                raise
        await self._start_thread(client, int(parent), int(message_id), thread)
        return await channel.send(text, allowed_mentions=allowed, **extra)

    async def _start_thread(self, client: _Bot, parent: int, message_id: int, thread: str) -> None:
        name = self._topics.get(thread) or "Angie"
        try:
            await client.http.start_thread_with_message(
                parent, message_id, name=name, auto_archive_duration=1440
            )
        except discord.HTTPException as err:
            if err.code != _THREAD_EXISTS:  # started meanwhile: post into it all the same
                raise


def _target(thread: str) -> int:
    """The Discord channel a thread id posts into (a DM, a thread, a channel)."""
    try:
        return int(thread.rpartition(":")[2])
    except ValueError as err:
        raise ChannelError(f"{thread!r} is not a Discord thread id.", permanent=True) from err


def _thread_of(channel: object, channel_id: int | None) -> str:
    if isinstance(channel, discord.Thread):
        return f"{channel.parent_id}:{channel.id}"
    return str(channel_id)


def _split(text: str) -> list[str]:
    """``text`` in pieces Discord accepts, cut at line ends where possible."""
    parts: list[str] = []
    while len(text) > _LIMIT:
        cut = text.rfind("\n", 0, _LIMIT)
        cut = cut if cut > 0 else _LIMIT
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text or "…"]


def _clip(text: str) -> str:
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _who(user: discord.ClientUser | None) -> str | None:
    return None if user is None else f"@{user} (id {user.id})"


def _who_payload(data: Any) -> str:
    name, tag = data.get("username", "?"), data.get("discriminator", "0")
    return (
        f"@{name}#{tag} (id {data['id']})"
        if tag not in {"0", None}
        else f"@{name} (id {data['id']})"
    )
