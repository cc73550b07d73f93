"""Message → reply latency through each chat channel's fake against ``POST /api/chat``.

One Angie (serving her API on 127.0.0.1, the real Hue MCP server against the fake bridge, the
tests' scripted Brain as an instant model) runs Slack over Socket Mode, Discord and iMessage
(BlueBubbles posting to her webhook route) for one person, each SDK pointed at the platform's
fake from ``tests/fakes``. Each round sends the same request once through every route, one at a
time: from the fake delivering the message (socket, gateway or webhook) to the fake receiving
Angie's reply (chat.postMessage / a Discord message / BlueBubbles' sendText); for the API, from
the request to its response (``wait`` holds it until the reply). Two requests: a plain answer
(no tool), and one call of ``hue_list_lights`` through the hue agent (read-only, so with the hue
server allowed no approval is asked). The ratio channel/API is what the channel itself costs.
After the figures, the p50 of each stage (from the task and ledger rows' timestamps) says where
a channel's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
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

# The platforms' fakes and the scripted model live with the tests (tests/ is on mypy's path).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from channel_support import SECRET, Endpoints, hue_home_angie
from fakes.bluebubbles_platform import FakeBlueBubbles
from fakes.brain import Brain
from fakes.discord_platform import FakeDiscord
from fakes.slack_platform import FakeSlack

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness

MESSAGES = int(os.environ.get("ANGIE_BENCH_MESSAGES", "10"))
WARMUP = 3
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway account
PHONE = "+15551234567"
_WAIT_S = 60.0
# request text → what her reply must contain
REQUESTS = {
    "instant": ("good morning", "Angie heard:"),
    "hue tool": ("hue: which lights are there?", "done:"),
}


def _list_lights(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The hue agent's plan: one call of ``hue_list_lights``."""
    return ("hue_list_lights", {}) if "hue_list_lights" in tools else None


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
        async with asyncio.timeout(_WAIT_S):
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
            "/api/chat", params={"wait": _WAIT_S}, json={"text": text, "thread": "bench"}
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
            lambda: self.slack.wait(lambda s: len(s.posts) > seen, within=_WAIT_S),
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
            lambda: self.discord.wait_for(lambda: len(self.discord.messages) > seen, _WAIT_S),
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
            lambda: self.bb.incoming(PHONE, text), lambda: self.bb.wait_sent(seen + 1, _WAIT_S)
        )
        return Reply(sent, done - started, self.bb.sent[seen].text)


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
    deadline = time.monotonic() + _WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the channel did not connect in time")
        await asyncio.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _sign_in(home: Home, client: httpx.AsyncClient) -> None:
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
    await slack.wait(lambda s: s.connections, within=_WAIT_S)
    await slack.dm("U0SAM", "hello")
    await slack.wait(lambda s: s.posts, within=_WAIT_S)
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
    await discord.wait_for(lambda: bool(discord.messages), within=_WAIT_S)
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
    [pairing] = await bb.wait_sent(1, within=_WAIT_S)
    await home.link(pairing.text)
    return IMessage(home, bb)


def _ms(values: list[float], q: float) -> str:
    return f"{harness.pct(values, q) * 1000:7.0f}"


def report(request: str, results: dict[str, list[float]]) -> None:
    api = results["api"]
    print(f"{request:<9} {'api':<9} p50 {_ms(api, 50)} ms  p95 {_ms(api, 95)} ms")
    for name, ours in results.items():
        if name == "api":
            continue
        print(
            f"{request:<9} {name:<9} p50 {_ms(ours, 50)} ms  p95 {_ms(ours, 95)} ms"
            f"   ratio channel/api p50 {harness.pct(ours, 50) / harness.pct(api, 50):5.2f}x"
            f"  p95 {harness.pct(ours, 95) / harness.pct(api, 95):5.2f}x"
        )


def report_stages(stages: dict[str, Stages]) -> None:
    print("  p50 ms of: sent → task row | queued | run → reply written | written → received (p95)")
    for name, s in stages.items():
        print(
            f"  {name:<9} {_ms(s.inbound, 50)} | {_ms(s.queued, 50)} | {_ms(s.working, 50)} |"
            f" {_ms(s.outbound, 50)} ({_ms(s.outbound, 95)})"
        )


async def measure(routes: list[Route], messages: int, warmup: int) -> None:
    for request, (text, expect) in REQUESTS.items():
        results: dict[str, list[float]] = {route.name: [] for route in routes}
        stages = {route.name: Stages() for route in routes}
        for round_ in range(warmup + messages):
            for route in routes:  # one route after another: each sees the same machine
                reply = await route.ask(text)
                if expect not in reply.text:
                    raise AssertionError(f"{route.name} answered {reply.text[:200]!r}")
                if round_ >= warmup:
                    results[route.name].append(reply.seconds)
                    await route.stage(reply, stages[route.name])
        report(request, results)
        report_stages(stages)


def _trouble(record: logging.LogRecord) -> bool:
    """Only trouble is printed: not the server's start and stop (uvicorn sets its own levels as
    it starts), the throwaway setup code or discord.py's word on voice."""
    if record.name.startswith(("uvicorn", "angie.accounts.setup_code", "discord")):
        return record.levelno >= logging.ERROR
    return True


async def main(messages: int, warmup: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_trouble)
    print(
        f"{messages} messages per route and request after {warmup} warm-up, one at a time; "
        f"scripted instant model; SQLite; {os.cpu_count()} cores; aim channel/api <= 1.2x"
    )
    brain = Brain(plans={"lights": _list_lights})
    ends = Endpoints()
    port = _free_port()
    with harness.hue_bridge() as bridge, tempfile.TemporaryDirectory(prefix="angie-bench-") as tmp:
        data_dir = Path(tmp)
        angie = hue_home_angie(
            f"sqlite+aiosqlite:///{data_dir / 'angie.db'}",
            data_dir,
            bridge,
            brain,
            ends.factory(),
            port=port,
        )
        home = Home(angie, f"http://127.0.0.1:{port}")
        # The platforms' fakes outlive Angie: her adapters stop before their platforms go.
        async with (
            contextlib.AsyncExitStack() as stack,
            httpx.AsyncClient(base_url=home.url, timeout=_WAIT_S + 10) as client,
        ):
            await angie.start()
            try:
                await _sign_in(home, client)
                await home.allow_hue()
                routes: list[Route] = [Api(home, client)]
                for start in (_slack, _discord, _imessage):
                    routes.append(await start(home, stack, ends))
                await measure(routes, messages, warmup)
            finally:
                await angie.stop(grace=5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=MESSAGES, help="per route")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="per route, not counted")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.warmup))
