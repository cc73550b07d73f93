"""How the channel benchmark reaches Angie: ``POST /api/chat``, or a person writing through a
platform's fake (Slack, Discord, iMessage, email), each timed to the reply the fake receives.
The fakes come from ``tests/fakes``; ``bench_channels`` puts ``tests/`` on the path first."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from channel_support import SECRET, Endpoints
from fakes.bluebubbles_platform import FakeBlueBubbles
from fakes.discord_platform import FakeDiscord
from fakes.mail_servers import DOVECOT, MailServers
from fakes.slack_platform import FakeSlack
from sqlalchemy import select, update

from angie.channel_states import Connection
from angie.daemon import Angie
from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.models import (
    ApprovalMode,
    ChannelDelivery,
    ChannelKind,
    ChannelSetting,
    McpServer,
    Message,
    MessageRole,
    OutboundKind,
    Task,
)

__all__ = ("WAIT_S", "Api", "Home", "Reply", "Route", "Stages", "connect", "has_dovecot", "sign_in")

PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway account
PHONE = "+15551234567"
WAIT_S = 60.0
SAM_MAIL = "Sam <sam@home.test>"


@dataclass(frozen=True, slots=True)
class Reply:
    """One request's round trip: when it left (wall clock), seconds to the reply, its text."""

    sent: datetime
    seconds: float
    text: str


async def _timed(
    trigger: Callable[[], Awaitable[object]], arrived: Callable[[], Awaitable[Any]]
) -> tuple[float, float]:
    """(start, end) on the monotonic clock: ``arrived`` is awaited from before ``trigger`` runs,
    so a reply faster than the trigger's own answer (a webhook's) is stamped when it came."""

    async def stamp() -> float:
        await arrived()
        return time.monotonic()

    waiter = asyncio.create_task(stamp())
    await asyncio.sleep(0)
    started = time.monotonic()
    try:
        async with asyncio.timeout(WAIT_S):
            await trigger()
            return started, await waiter
    finally:
        waiter.cancel()


@dataclass
class Stages:
    """Seconds spent in each stage, per request (p50 printed)."""

    inbound: list[float] = field(default_factory=list)  # sent → task row
    queued: list[float] = field(default_factory=list)  # task row → task started
    working: list[float] = field(default_factory=list)  # started → reply written
    outbound: list[float] = field(default_factory=list)  # reply written → reply received

    def add(self, reply: Reply, task: Task, written: datetime) -> None:
        assert task.started_at is not None
        received = reply.sent + timedelta(seconds=reply.seconds)
        self.inbound.append((task.created_at - reply.sent).total_seconds())
        self.queued.append((task.started_at - task.created_at).total_seconds())
        self.working.append((written - task.started_at).total_seconds())
        self.outbound.append((received - written).total_seconds())


class Route:
    """One way to reach Angie; ``ask`` sends ``text`` and waits for her reply."""

    name = ""

    def __init__(self, home: Home) -> None:
        self.home = home

    async def ask(self, text: str) -> Reply:
        raise NotImplementedError

    async def stage(self, reply: Reply, stages: Stages) -> None:
        """Split the last request's time by the rows it left: its task and its ledger row."""
        async with self.home.angie.services.database.session() as session:
            delivery = await session.scalar(
                select(ChannelDelivery)
                .where(ChannelDelivery.channel == ChannelKind(self.name))
                .where(ChannelDelivery.kind == OutboundKind.MESSAGE)
                .order_by(ChannelDelivery.id.desc())
                .limit(1)
            )
            assert delivery is not None
            assert delivery.task_id is not None
            task = await session.get(Task, delivery.task_id)
            assert task is not None
        stages.add(reply, task, delivery.created_at)


class Api(Route):
    name = "api"

    def __init__(self, home: Home, client: httpx.AsyncClient) -> None:
        super().__init__(home)
        self.client = client
        self.task_id = 0

    async def ask(self, text: str) -> Reply:
        sent = datetime.now(UTC)
        started = time.monotonic()
        answer = await self.client.post(
            "/api/chat", params={"wait": WAIT_S}, json={"text": text, "thread": "bench"}
        )
        seconds = time.monotonic() - started
        answer.raise_for_status()
        body = answer.json()
        self.task_id = body["task_id"]
        return Reply(sent, seconds, body["reply"] or "")

    async def stage(self, reply: Reply, stages: Stages) -> None:
        """The API's reply is written as her message row (a channel's with its ledger row)."""
        async with self.home.angie.services.database.session() as session:
            task = await session.get(Task, self.task_id)
            written = await session.scalar(
                select(Message.created_at)
                .where(Message.task_id == self.task_id, Message.role == MessageRole.ASSISTANT)
                .order_by(Message.id.desc())
                .limit(1)
            )
            assert task is not None
            assert written is not None
        stages.add(reply, task, written)


class Slack(Route):
    name = "slack"

    def __init__(self, home: Home, slack: FakeSlack) -> None:
        super().__init__(home)
        self.slack = slack

    async def ask(self, text: str) -> Reply:
        seen = len(self.slack.posts)
        sent = datetime.now(UTC)
        started, _ = await _timed(
            lambda: self.slack.dm("U0SAM", text),
            lambda: self.slack.wait(lambda s: len(s.posts) > seen, within=WAIT_S),
        )
        # The fake's own stamp of the chat.postMessage call that brought the reply.
        at = next(
            c.at for c in self.slack.calls if c.method == "chat.postMessage" and c.at >= started
        )
        return Reply(sent, at - started, self.slack.posts[seen].text or "")


class Discord(Route):
    name = "discord"

    def __init__(self, home: Home, discord: FakeDiscord) -> None:
        super().__init__(home)
        self.discord = discord

    async def ask(self, text: str) -> Reply:
        seen = len(self.discord.messages)
        sent = datetime.now(UTC)
        started, done = await _timed(
            lambda: self.discord.dm(self.discord.sam, text),
            lambda: self.discord.wait_for(lambda: len(self.discord.messages) > seen, WAIT_S),
        )
        return Reply(sent, done - started, self.discord.messages[seen]["content"])


class IMessage(Route):
    name = "imessage"

    def __init__(self, home: Home, bb: FakeBlueBubbles) -> None:
        super().__init__(home)
        self.bb = bb

    async def ask(self, text: str) -> Reply:
        seen = len(self.bb.sent)
        sent = datetime.now(UTC)
        started, done = await _timed(
            lambda: self.bb.incoming(PHONE, text), lambda: self.bb.wait_sent(seen + 1, WAIT_S)
        )
        return Reply(sent, done - started, self.bb.sent[seen].text)


@dataclass
class Email(Route):
    name = "email"

    def __init__(self, home: Home, mail: MailServers) -> None:
        super().__init__(home)
        self.mail = mail

    async def ask(self, text: str) -> Reply:
        seen = len(self.mail.sent)
        sent = datetime.now(UTC)
        started, done = await _timed(
            lambda: self.mail.deliver(SAM_MAIL, self.mail.address, text, "Thanks!"),
            lambda: self.mail.wait_sent(seen + 1, WAIT_S),
        )
        return Reply(sent, done - started, _body(self.mail.sent[seen].message))


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    return "" if part is None else str(part.get_content())


@dataclass
class Home:
    """The running Angie, her address and the one person the bench talks as."""

    angie: Angie
    url: str
    user_id: int = 0

    async def save_channel(
        self, kind: ChannelKind, config: dict[str, Any], secrets: dict[str, str]
    ) -> int:
        async with self.angie.services.database.session() as session:
            row = ChannelSetting(user_id=self.user_id, channel=kind, config=config)
            session.add(row)
            store = CredentialStore(session, credential_box(SECRET))
            for name, value in secrets.items():
                await store.set(f"channel.{kind.value}.{name}", value, user_id=self.user_id)
            await session.flush()
            setting_id = row.id
        await self.angie.services.hub.reload()
        return setting_id

    async def link(self, pairing_text: str) -> None:
        code = pairing_text.split("angie channels link ")[1][:6]
        await self.angie.services.hub.identities.link(self.user_id, code)

    async def allow_hue(self) -> None:
        """The hue server's calls go without asking (``list_lights`` is read-only anyway)."""
        async with self.angie.services.database.session() as session:
            await session.execute(
                update(McpServer)
                .where(McpServer.name == "hue")
                .values(approval_mode=ApprovalMode.ALLOW)
            )


async def _until(check: Callable[[], object]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the channel did not connect in time")
        await asyncio.sleep(0.05)


async def sign_in(home: Home, client: httpx.AsyncClient) -> None:
    """The household's first account (with the setup code Angie made at start), signed in."""
    made = await client.post(
        "/api/auth/register",
        json={
            "email": "sam@home.test",
            "password": PASSWORD,
            "display_name": "Sam",
            "setup_code": home.angie.services.setup.code,
        },
    )
    made.raise_for_status()
    login = await client.post(
        "/api/auth/login", json={"email": "sam@home.test", "password": PASSWORD}
    )
    login.raise_for_status()
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    home.user_id = login.json()["user"]["id"]


async def _slack(home: Home, stack: contextlib.AsyncExitStack, ends: Endpoints) -> Route:
    slack = await stack.enter_async_context(FakeSlack())
    ends.slack_api = slack.api_url
    await home.save_channel(ChannelKind.SLACK, {}, slack.secrets())
    await slack.wait(lambda s: s.connections, within=WAIT_S)
    await slack.dm("U0SAM", "hello")
    await slack.wait(lambda s: s.posts, within=WAIT_S)
    await home.link(slack.posts[0].text or "")
    return Slack(home, slack)


async def _discord(home: Home, stack: contextlib.AsyncExitStack, ends: Endpoints) -> Route:
    discord = await stack.enter_async_context(FakeDiscord())
    ends.discord_api = discord.api_url
    await home.save_channel(
        ChannelKind.DISCORD, {"guild_id": discord.guild_id}, {"bot_token": discord.token}
    )
    # A DM sent before the adapter is connected to the gateway would reach nobody.
    states = home.angie.services.channels
    await _until(
        lambda: (
            states.connection(home.user_id, "discord", enabled=True).state is Connection.CONNECTED
        )
    )
    await discord.dm(discord.sam, "hello")
    await discord.wait_for(lambda: bool(discord.messages), within=WAIT_S)
    await home.link(discord.messages[0]["content"])
    return Discord(home, discord)


async def _imessage(home: Home, stack: contextlib.AsyncExitStack, _ends: Endpoints) -> Route:
    bb = await stack.enter_async_context(FakeBlueBubbles())
    setting_id = await home.save_channel(
        ChannelKind.IMESSAGE,
        {"server_url": bb.url},
        {"password": bb.password, "webhook_secret": bb.webhook_secret},
    )
    bb.webhook_url = f"{home.url}/api/channels/imessage/hooks/{setting_id}"
    await bb.incoming(PHONE, "hello")
    [pairing] = await bb.wait_sent(1, within=WAIT_S)
    await home.link(pairing.text)
    return IMessage(home, bb)


async def _email(home: Home, stack: contextlib.AsyncExitStack, ends: Endpoints) -> Route:
    mail = await stack.enter_async_context(MailServers())
    ends.email_ssl = mail.client_ssl_context
    await home.save_channel(
        ChannelKind.EMAIL,
        mail.settings.model_dump(mode="json", exclude_none=True),
        {"password": mail.password},
    )
    await mail.deliver(SAM_MAIL, mail.address, "Hello", "hello Angie")
    [pairing] = await mail.wait_sent(1, within=WAIT_S)
    await home.link(_body(pairing.message))
    return Email(home, mail)


def has_dovecot() -> bool:
    """The email fake runs a real Dovecot (IMAP) beside its SMTP server."""
    return os.access(DOVECOT, os.X_OK)


async def connect(home: Home, stack: contextlib.AsyncExitStack, ends: Endpoints) -> list[Route]:
    """Every channel's fake started (until ``stack`` closes), saved as the person's channel and
    paired with them; email only with Dovecot."""
    starts = [_slack, _discord, _imessage] + ([_email] if has_dovecot() else [])
    return [await start(home, stack, ends) for start in starts]
