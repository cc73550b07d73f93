"""Each chat channel end to end, through its real SDK against its platform's fake: a person
writes → Angie → the hue agent (the real Hue server, the fake bridge) → the approval as buttons
(or a reply code) → approved in the channel → one PUT on the bridge → the answer in the same
thread, mentioning the person. Unknown senders get only a pairing code; forged platform calls
reach nobody."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import bridge_puts, floor_lamp_on
from channel_support import SECRET, Endpoints, hue_home_angie
from fakes.bluebubbles_platform import FakeBlueBubbles, direct_chat
from fakes.brain import Brain
from fakes.discord_platform import FakeDiscord
from fakes.mail_servers import MailServers, SentMail, require_dovecot
from fakes.slack_platform import FakeSlack
from sqlalchemy import func, select

from angie.channel_states import Connection
from angie.daemon import Angie
from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.models import ChannelKind, ChannelSetting, Event, EventType, User
from angie.events.router import NewEvent

pytestmark = [pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Home:
    def __init__(
        self, angie: Angie, bridge: FakeHueBridge, port: int, endpoints: Endpoints
    ) -> None:
        self.endpoints = endpoints
        self.angie = angie
        self.bridge = bridge
        self.url = f"http://127.0.0.1:{port}"

    async def person(self, name: str = "Sam") -> int:
        async with self.angie.services.database.session() as session:
            user = User(
                email=f"{uuid.uuid4().hex[:8]}@home.test", display_name=name, preferred_name=name
            )
            session.add(user)
            await session.flush()
            return user.id

    async def save_channel(
        self, owner: int, kind: ChannelKind, config: dict[str, Any], secrets: dict[str, str]
    ) -> int:
        async with self.angie.services.database.session() as session:
            row = ChannelSetting(user_id=owner, channel=kind, config=config)
            session.add(row)
            store = CredentialStore(session, credential_box(SECRET))
            for name, value in secrets.items():
                await store.set(f"channel.{kind.value}.{name}", value, user_id=owner)
            await session.flush()
            setting_id = row.id
        await self.angie.services.hub.reload()
        return setting_id

    async def connected(self, owner: int, kind: ChannelKind) -> None:
        """Until the owner's adapter reports it is connected to its platform."""
        states = self.angie.services.channels
        await _until(
            lambda: states.connection(owner, kind.value, enabled=True).state is Connection.CONNECTED
        )

    async def link(self, owner: int, code: str) -> None:
        await self.angie.services.hub.identities.link(owner, code)

    async def events(self) -> int:
        async with self.angie.services.database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


@pytest.fixture
async def endpoints() -> Endpoints:
    return Endpoints()


@pytest.fixture
async def home(
    database_url: str, data_dir: Path, bridge: FakeHueBridge, endpoints: Endpoints
) -> AsyncIterator[Home]:
    brain = Brain(plans={"lamp": floor_lamp_on})
    port = _free_port()
    angie = hue_home_angie(database_url, data_dir, bridge, brain, endpoints.factory(), port=port)
    await angie.start()
    try:
        yield Home(angie, bridge, port, endpoints)
    finally:
        await angie.stop(grace=5)


def _code(text: str) -> str:
    return text.split("angie channels link ")[1][:6]


async def _until(check: Callable[[], object], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "it did not happen in time"
        await asyncio.sleep(0.05)


# -- Slack -------------------------------------------------------------------------------------


async def test_slack_message_to_approved_light_in_the_same_thread(
    home: Home, endpoints: Endpoints
) -> None:
    async with FakeSlack() as slack:
        endpoints.slack_api = slack.api_url
        sam = await home.person()
        await home.save_channel(sam, ChannelKind.SLACK, {}, slack.secrets())
        await slack.wait(lambda s: s.connections)

        await slack.dm("U0SAM", "hello")
        await slack.wait(lambda s: s.posts)
        assert "angie channels link" in (slack.posts[0].text or "")
        assert await home.events() == 0
        await home.link(sam, _code(slack.posts[0].text or ""))

        await slack.mention("C0HOME", "U0SAM", "hue: turn on the floor lamp", thread_ts="1712.0001")
        await slack.wait(lambda s: len(s.posts) >= 2)
        ask = slack.posts[1]
        assert ask.channel == "C0HOME"
        assert ask.thread_ts == "1712.0001"
        assert "<@U0SAM>" in (ask.text or "")
        assert bridge_puts(home.bridge) == []

        await slack.click("U0SAM", ask, "angie_approve")
        await slack.wait(lambda s: len(s.posts) >= 3, within=30)
        answer = slack.posts[2]
        assert (answer.channel, answer.thread_ts) == ("C0HOME", "1712.0001")
        assert answer.text is not None
        assert answer.text.startswith("<@U0SAM> ")
        assert "done:" in answer.text
        assert [r.path.rsplit("/", 2)[-2] for r in bridge_puts(home.bridge)] == ["2"]
        await slack.wait(lambda s: s.updates)
        # The approval's message now shows the decision (Slack updates it in place).
        assert slack.posts[1].text == "✅ Approved by Sam."


async def test_slack_over_http_refuses_a_forged_signature_and_writes_nothing(
    home: Home, endpoints: Endpoints
) -> None:
    async with FakeSlack() as slack:
        endpoints.slack_api = slack.api_url
        sam = await home.person()
        setting_id = await home.save_channel(
            sam, ChannelKind.SLACK, {}, slack.secrets(socket_mode=False)
        )
        hook = f"{home.url}/api/channels/slack/hooks/{setting_id}"
        forged = slack.signed_event(slack.dm_event("U0SAM", "hello"), secret="0" * 32)
        async with httpx.AsyncClient() as client:
            refused = await client.post(hook, content=forged.body, headers=dict(forged.headers))
            assert refused.status_code == 401
            await asyncio.sleep(0.5)
            assert slack.posts == []
            assert await home.events() == 0

            signed = slack.signed_event(slack.dm_event("U0SAM", "hello"))
            taken = await client.post(hook, content=signed.body, headers=dict(signed.headers))
            assert taken.status_code == 200
        await slack.wait(lambda s: s.posts)
        assert "angie channels link" in (slack.posts[0].text or "")


async def test_slack_down_for_a_while_loses_nothing_and_doubles_nothing(
    home: Home, endpoints: Endpoints
) -> None:
    async with FakeSlack() as slack:
        endpoints.slack_api = slack.api_url
        sam = await home.person()
        await home.save_channel(sam, ChannelKind.SLACK, {}, slack.secrets())
        await slack.wait(lambda s: s.connections)
        await slack.dm("U0SAM", "hello")
        await slack.wait(lambda s: s.posts)
        await home.link(sam, _code(slack.posts[0].text or ""))
        await slack.go_down()

        # Work nobody started in Slack (as a cron would) reaches Sam there: Slack is away.
        route = await home.angie.services.submit(
            NewEvent(EventType.API, source="test", user_id=sam, payload={"text": "the report"})
        )
        assert route.task is not None
        await _until(
            lambda: any(c.method == "chat.postMessage" and c.status == 503 for c in slack.calls)
        )
        assert len(slack.posts) == 1

        slack.come_back()
        await slack.wait(lambda s: len(s.posts) >= 2, within=60)
        await asyncio.sleep(1.0)
        report = [p for p in slack.posts if "Angie heard: the report" in (p.text or "")]
        assert len(report) == 1
        assert report[0].channel == "D0SAM"


# -- Discord -------------------------------------------------------------------------------------


async def test_discord_mention_to_approved_light_in_a_reply_thread(
    home: Home, endpoints: Endpoints
) -> None:
    async with FakeDiscord() as discord:
        endpoints.discord_api = discord.api_url
        sam = await home.person()
        await home.save_channel(
            sam, ChannelKind.DISCORD, {"guild_id": discord.guild_id}, {"bot_token": discord.token}
        )
        await home.connected(sam, ChannelKind.DISCORD)
        await discord.dm(discord.sam, "hello")
        await discord.wait_for(lambda: len(discord.messages) >= 1, within=30)
        await home.link(sam, _code(discord.messages[0]["content"]))

        await discord.mention(discord.channel_id, discord.sam, "hue: turn on the floor lamp")
        await discord.wait_for(lambda: len(discord.messages) >= 2, within=30)
        ask = discord.messages[1]
        assert f"<@{discord.sam.id}>" in ask["content"]
        buttons = [b for row in ask["components"] for b in row["components"]]
        approve = next(
            b["custom_id"] for b in buttons if b["custom_id"].startswith("angie:approve")
        )
        # The answer goes to a thread started at Sam's message, not the channel itself.
        assert ask["channel_id"] != discord.channel_id
        assert bridge_puts(home.bridge) == []

        await discord.click(discord.sam, ask["id"], approve)
        await discord.wait_for(lambda: len(discord.messages) >= 3, within=30)
        answer = discord.messages[2]
        assert answer["channel_id"] == ask["channel_id"]
        assert answer["content"].startswith(f"<@{discord.sam.id}>")
        assert "done:" in answer["content"]
        assert [r.path.rsplit("/", 2)[-2] for r in bridge_puts(home.bridge)] == ["2"]
        assert "Approved by Sam" in discord.stored[ask["id"]]["content"]


# -- iMessage ------------------------------------------------------------------------------------


async def test_imessage_message_to_approved_light_by_reply_code(home: Home) -> None:
    async with FakeBlueBubbles() as bb:
        sam = await home.person()
        setting_id = await home.save_channel(
            sam,
            ChannelKind.IMESSAGE,
            {"server_url": bb.url},
            {"password": bb.password, "webhook_secret": bb.webhook_secret},
        )
        bb.webhook_url = f"{home.url}/api/channels/imessage/hooks/{setting_id}"
        phone = "+15551234567"

        answer = await bb.incoming(phone, "hello")
        assert answer.status == 200
        [pairing] = await bb.wait_sent(1)
        assert pairing.chat_guid == direct_chat(phone)
        await home.link(sam, _code(pairing.text))

        await bb.incoming(phone, "hue: turn on the floor lamp")
        sent = await bb.wait_sent(2, within=30)
        ask = sent[1].text
        assert "hue.set_light" in ask
        code = ask.rsplit('Reply "yes ', 1)[1].split('"', 1)[0]
        assert bridge_puts(home.bridge) == []

        await bb.incoming(phone, f"yes {code}")
        sent = await bb.wait_sent(4, within=30)
        texts = [s.text for s in sent[2:]]
        assert any("Approved by Sam" in t for t in texts)
        assert any("done:" in t for t in texts)
        assert [r.path.rsplit("/", 2)[-2] for r in bridge_puts(home.bridge)] == ["2"]


async def test_imessage_webhook_with_a_wrong_secret_writes_nothing(home: Home) -> None:
    async with FakeBlueBubbles() as bb:
        sam = await home.person()
        setting_id = await home.save_channel(
            sam,
            ChannelKind.IMESSAGE,
            {"server_url": bb.url},
            {"password": bb.password, "webhook_secret": bb.webhook_secret},
        )
        bb.webhook_url = f"{home.url}/api/channels/imessage/hooks/{setting_id}"

        answer = await bb.incoming("+15551234567", "hello", secret="not-the-secret-at-all")

        assert answer.status == 401
        await asyncio.sleep(0.5)
        assert bb.sent == []
        assert await home.events() == 0


# -- email ---------------------------------------------------------------------------------------


async def test_email_to_approved_light_by_reply_code_in_the_same_thread(
    home: Home, endpoints: Endpoints
) -> None:
    require_dovecot()
    async with MailServers() as mail:
        endpoints.email_ssl = mail.client_ssl_context
        sam = await home.person()
        await home.save_channel(
            sam,
            ChannelKind.EMAIL,
            mail.settings.model_dump(mode="json", exclude_none=True),
            {"password": mail.password},
        )
        first = await mail.deliver("Sam <sam@home.test>", mail.address, "Hello", "hello Angie")
        [pairing] = await mail.wait_sent(1, within=30)
        assert pairing.rcpt_tos == ("sam@home.test",)
        assert pairing.message["In-Reply-To"] == first
        await home.link(sam, _code(_body(pairing)))

        asked = await mail.deliver(
            "Sam <sam@home.test>", mail.address, "hue: turn on the floor lamp", "Thanks!"
        )
        sent = await mail.wait_sent(2, within=30)
        ask = _body(sent[1])
        assert sent[1].message["In-Reply-To"] == asked
        assert "hue.set_light" in ask
        code = ask.rsplit('Reply "yes ', 1)[1].split('"', 1)[0]
        assert bridge_puts(home.bridge) == []

        await mail.deliver(
            "Sam <sam@home.test>", mail.address, "Re: lamp", f"yes {code}", in_reply_to=asked
        )
        sent = await mail.wait_sent(4, within=30)
        later = [_body(m) for m in sent[2:]]
        assert any("Approved by Sam" in t for t in later)
        assert any("done:" in t for t in later)
        assert all(m.message["References"].startswith(asked) for m in sent[2:])
        assert [r.path.rsplit("/", 2)[-2] for r in bridge_puts(home.bridge)] == ["2"]


async def test_email_from_an_unlinked_address_gets_only_a_pairing_code(home: Home) -> None:
    require_dovecot()
    async with MailServers() as mail:
        sam = await home.person()
        home.endpoints.email_ssl = mail.client_ssl_context
        await home.save_channel(
            sam,
            ChannelKind.EMAIL,
            mail.settings.model_dump(mode="json", exclude_none=True),
            {"password": mail.password},
        )
        await mail.deliver("mallory@evil.test", mail.address, "Lights", "hue: turn everything off")
        [only] = await mail.wait_sent(1, within=30)
        assert "angie channels link" in _body(only)
        await asyncio.sleep(0.5)
        assert await home.events() == 0
        assert bridge_puts(home.bridge) == []


def _body(sent: SentMail) -> str:
    part = sent.message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
