"""The Discord adapter, driven through discord.py against a local fake of Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
from channel_support import RecordingHub
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context
from fakes.discord_platform import FakeDiscord

from angie_channels.base import ApprovalAsk, ChannelError, Decision, Outbound, State
from angie_channels.discord.adapter import DiscordChannel, create
from angie_channels.discord.settings import DiscordSecrets, DiscordSettings


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as discord:
        yield discord


def channel_for(
    fake: FakeDiscord, *, guild_id: str | None = None, token: str | None = None
) -> DiscordChannel:
    return create(
        DiscordSettings(guild_id=guild_id),
        DiscordSecrets(bot_token=token or fake.token),
        api_url=fake.api_url,
    )


@pytest.fixture
async def hub() -> RecordingHub:
    return RecordingHub()


async def connected(fake: FakeDiscord, hub: RecordingHub, **options: str) -> DiscordChannel:
    channel = channel_for(fake, **options)
    await channel.start(hub)
    await hub.wait(lambda h: h.state in {State.CONNECTED, State.FAILED})
    assert hub.state is State.CONNECTED, hub.reports
    return channel


@pytest.fixture
async def angie(fake: FakeDiscord, hub: RecordingHub) -> AsyncIterator[DiscordChannel]:
    channel = await connected(fake, hub, guild_id=fake.guild_id)
    yield channel
    await channel.stop()


async def test_check_names_the_bot(fake: FakeDiscord) -> None:
    assert await channel_for(fake).check() == f"@Angie#0001 (id {fake.bot.id})"


async def test_check_with_a_bad_token_is_a_permanent_error(fake: FakeDiscord) -> None:
    with pytest.raises(ChannelError, match="Discord refused the bot token") as caught:
        await channel_for(fake, token="not.the.right.token.at.all").check()
    assert caught.value.permanent


async def test_start_with_a_bad_token_fails_with_the_reason(
    fake: FakeDiscord, hub: RecordingHub
) -> None:
    channel = channel_for(fake, token="not.the.right.token.at.all")
    await channel.start(hub)
    await hub.wait(lambda h: h.state is State.FAILED)
    await channel.stop()
    assert hub.reports[0] == (State.CONNECTING, None)
    assert "Discord refused the bot token" in (hub.reports[-1][1] or "")


async def test_connects_with_only_the_intents_it_needs(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    guilds, guild_messages, dm_messages = 1 << 0, 1 << 9, 1 << 12
    assert fake.identifies[-1]["intents"] == guilds | guild_messages | dm_messages
    assert hub.reports[-1] == (State.CONNECTED, f"@Angie#0001 (id {fake.bot.id})")


async def test_refused_intents_fail_with_the_developer_portal_hint(
    fake: FakeDiscord, hub: RecordingHub
) -> None:
    fake.refuse_identify(4014)
    channel = channel_for(fake)
    await channel.start(hub)
    await hub.wait(lambda h: h.state is State.FAILED)
    await channel.stop()
    assert "developer portal" in (hub.reports[-1][1] or "")


async def test_a_direct_message_reaches_angie(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    message_id = await fake.dm(fake.sam, "what's on today?")
    await hub.wait(lambda h: bool(h.messages))
    (inbound,) = hub.messages
    dm_channel = fake.stored[message_id]["channel_id"]
    assert (inbound.message_id, inbound.sender.id, inbound.sender.name) == (
        message_id,
        fake.sam.id,
        "Sam",
    )
    assert (inbound.thread, inbound.text, inbound.direct) == (dm_channel, "what's on today?", True)


async def test_a_reply_to_a_direct_message_goes_to_the_dm(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    sent = await angie.send(Outbound(hub.messages[0].thread, "Hello Sam."))
    (posted,) = fake.messages
    assert (posted["id"], posted["channel_id"]) == (sent.message_id, hub.messages[0].thread)
    assert posted["content"] == "Hello Sam."
    assert posted["allowed_mentions"] == {"parse": []}


async def test_a_mention_reaches_angie_without_the_mention(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    message_id = await fake.mention(fake.channel_id, fake.sam, "dim the lights")
    await hub.wait(lambda h: bool(h.messages))
    (inbound,) = hub.messages
    assert (inbound.text, inbound.direct) == ("dim the lights", False)
    assert inbound.thread == f"{fake.channel_id}:{message_id}"


async def test_the_answer_to_a_mention_starts_a_thread_and_stays_in_it(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    message_id = await fake.mention(fake.channel_id, fake.sam, "dim the lights")
    await hub.wait(lambda h: bool(h.messages))
    thread = hub.messages[0].thread
    await angie.send(Outbound(thread, "Dimmed."))
    await angie.send(Outbound(thread, "To 30 %."))

    assert list(fake.threads) == [message_id]
    assert fake.threads[message_id]["name"] == "dim the lights"
    assert [(m["channel_id"], m["content"]) for m in fake.messages] == [
        (message_id, "Dimmed."),
        (message_id, "To 30 %."),
    ]


async def test_a_mention_inside_the_thread_is_the_same_conversation(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.mention(fake.channel_id, fake.sam, "dim the lights")
    await hub.wait(lambda h: bool(h.messages))
    await angie.send(Outbound(hub.messages[0].thread, "Dimmed."))
    (thread_id,) = fake.threads
    await fake.mention(thread_id, fake.sam, "a bit more")
    await hub.wait(lambda h: len(h.messages) == 2)
    assert hub.messages[1].thread == hub.messages[0].thread


async def test_a_message_without_a_mention_is_not_for_angie(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.say(fake.channel_id, fake.sam, "lunch anyone?")
    await fake.dm(fake.sam, "marker")
    await hub.wait(lambda h: bool(h.messages))
    assert [m.text for m in hub.messages] == ["marker"]


async def test_a_mention_in_another_server_is_ignored(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.mention(fake.other_channel_id, fake.sam, "elsewhere")
    await fake.dm(fake.sam, "marker")
    await hub.wait(lambda h: bool(h.messages))
    assert [m.text for m in hub.messages] == ["marker"]


async def test_without_a_server_set_mentions_anywhere_reach_angie(
    fake: FakeDiscord, hub: RecordingHub
) -> None:
    channel = await connected(fake, hub)
    try:
        await fake.mention(fake.other_channel_id, fake.sam, "elsewhere")
        await hub.wait(lambda h: bool(h.messages))
    finally:
        await channel.stop()
    assert hub.messages[0].text == "elsewhere"


async def test_bots_and_angie_herself_are_ignored(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    other_bot = fake.add_user("Robo", bot=True)
    await fake.dm(other_bot, "beep")
    await fake.mention(fake.channel_id, other_bot, "beep")
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    await angie.send(Outbound(hub.messages[0].thread, "Hello."))  # echoed by the gateway
    await fake.dm(fake.sam, "marker")
    await hub.wait(lambda h: len(h.messages) == 2)
    assert [m.text for m in hub.messages] == ["hi", "marker"]


async def test_a_mention_pings_only_that_person(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    await angie.send(Outbound(hub.messages[0].thread, "Done, @everyone.", mention=fake.sam.id))
    (posted,) = fake.messages
    assert posted["content"] == f"<@{fake.sam.id}> Done, @everyone."
    assert posted["allowed_mentions"] == {"parse": [], "users": [int(fake.sam.id)]}
    assert angie.mention(fake.sam.id) == f"<@{fake.sam.id}>"


async def test_a_long_answer_is_sent_in_pieces_discord_accepts(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(60))
    sent = await angie.send(Outbound(hub.messages[0].thread, text))
    assert len(fake.messages) > 1
    assert all(len(m["content"]) <= 2000 for m in fake.messages)
    assert "\n".join(m["content"] for m in fake.messages) == text
    assert sent.message_id == fake.messages[-1]["id"]


async def ask(fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel) -> tuple[str, str]:
    """Sam asks in a server channel, Angie asks for approval in the thread: (thread, message)."""
    await fake.mention(fake.channel_id, fake.sam, "turn off the heating")
    await hub.wait(lambda h: bool(h.messages))
    thread = hub.messages[0].thread
    sent = await angie.ask_approval(
        ApprovalAsk(thread, "Turn off the heating?", ref="a1b2", code="4821", mention=fake.sam.id)
    )
    return thread, sent.message_id


async def test_an_approval_carries_approve_and_deny_buttons(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    _, message_id = await ask(fake, hub, angie)
    (row,) = fake.stored[message_id]["components"]
    assert [(b["label"], b["custom_id"]) for b in row["components"]] == [
        ("Approve", "angie:approve:a1b2"),
        ("Deny", "angie:deny:a1b2"),
    ]


async def test_a_click_is_a_decision_and_the_message_shows_it(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    thread, message_id = await ask(fake, hub, angie)
    interaction_id = await fake.click(fake.sam, message_id, "angie:approve:a1b2")
    await fake.wait_for(lambda: bool(fake.edits))

    (decision,) = hub.decisions
    assert (decision.approve, decision.ref, decision.thread) == (True, "a1b2", thread)
    assert (decision.sender.id, decision.message_id) == (fake.sam.id, interaction_id)
    (response,) = fake.interaction_responses
    assert response["body"]["type"] == 6  # acknowledged at once, the message unchanged …
    approval = fake.stored[message_id]  # … then edited through the interaction
    assert (approval["content"], approval["components"]) == ("Approved", [])


async def test_a_refused_click_answers_only_the_clicker_and_keeps_the_buttons(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    hub.decide = lambda decision: None
    _, message_id = await ask(fake, hub, angie)
    stranger = fake.add_user("Lee")
    await fake.click(stranger, message_id, "angie:deny:a1b2")
    await fake.wait_for(lambda: bool(fake.followups))

    assert (hub.decisions[0].approve, hub.decisions[0].sender.id) == (False, stranger.id)
    (followup,) = fake.followups
    assert followup["body"]["content"] == "Only the person who asked can decide this."
    assert followup["body"]["flags"] & 64  # ephemeral: only the clicker sees it
    assert not fake.edits
    assert len(fake.stored[message_id]["components"]) == 1


async def test_a_click_angie_could_not_record_asks_to_press_again(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    def broken(decision: Decision) -> str | None:
        raise RuntimeError("the database is away")

    hub.decide = broken
    _, message_id = await ask(fake, hub, angie)
    await fake.click(fake.sam, message_id, "angie:approve:a1b2")
    await fake.wait_for(lambda: bool(fake.followups))
    assert "press the button again" in fake.followups[0]["body"]["content"]
    assert len(fake.stored[message_id]["components"]) == 1


async def test_a_click_on_an_approval_from_before_a_restart_still_reaches_angie(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    thread, message_id = await ask(fake, hub, angie)
    await angie.stop()

    after = RecordingHub()
    restarted = await connected(fake, after, guild_id=fake.guild_id)
    try:
        await fake.click(fake.sam, message_id, "angie:deny:a1b2")
        await fake.wait_for(lambda: bool(fake.edits))
    finally:
        await restarted.stop()
    (decision,) = after.decisions
    assert (decision.approve, decision.ref, decision.thread) == (False, "a1b2", thread)
    assert fake.stored[message_id]["content"] == "Denied"


async def test_a_click_in_a_direct_message_names_the_dm(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "delete the old photos")
    await hub.wait(lambda h: bool(h.messages))
    thread = hub.messages[0].thread
    sent = await angie.ask_approval(ApprovalAsk(thread, "Delete 312 photos?", ref="r9", code="1"))
    await fake.click(fake.sam, sent.message_id, "angie:approve:r9")
    await fake.wait_for(lambda: bool(fake.edits))
    assert (hub.decisions[0].thread, hub.decisions[0].ref) == (thread, "r9")


async def test_an_approval_reference_too_long_for_discord_is_refused(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    with pytest.raises(ChannelError, match="cannot carry") as caught:
        await angie.ask_approval(ApprovalAsk("1", "Sure?", ref="x" * 200, code="1"))
    assert caught.value.permanent


async def test_show_decision_edits_the_approval(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    thread, message_id = await ask(fake, hub, angie)
    await angie.show_decision(thread, message_id, "Approved by Sam")
    (edit,) = fake.edits
    assert edit["message_id"] == message_id
    assert (edit["body"]["content"], edit["body"]["components"]) == ("Approved by Sam", [])


async def test_discord_being_down_is_an_error_worth_retrying(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    fake.fail(503)
    with pytest.raises(ChannelError, match="Discord is having trouble") as caught:
        await angie.send(Outbound(hub.messages[0].thread, "Hello."))
    assert not caught.value.permanent


async def test_a_long_rate_limit_goes_back_with_retry_after(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    fake.rate_limit(120.0)
    with pytest.raises(ChannelError, match="rate limiting") as caught:
        await angie.send(Outbound(hub.messages[0].thread, "Hello."))
    assert (caught.value.permanent, caught.value.retry_after) == (False, 120.0)


async def test_a_short_rate_limit_is_waited_out(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    fake.rate_limit(0.05)
    await angie.send(Outbound(hub.messages[0].thread, "Hello."))
    assert [m["content"] for m in fake.messages] == ["Hello."]


async def test_sending_to_a_channel_that_is_gone_is_permanent(
    fake: FakeDiscord, angie: DiscordChannel
) -> None:
    with pytest.raises(ChannelError, match="gone") as caught:
        await angie.send(Outbound("123456789", "Hello."))
    assert caught.value.permanent


async def test_check_while_discord_is_down_is_worth_retrying(fake: FakeDiscord) -> None:
    fake.fail(503)
    with pytest.raises(ChannelError, match="Discord is having trouble") as caught:
        await channel_for(fake).check()
    assert not caught.value.permanent


async def test_check_when_discord_cannot_be_reached_is_worth_retrying(fake: FakeDiscord) -> None:
    channel = channel_for(fake)
    await fake.stop()
    with pytest.raises(ChannelError, match="Could not reach Discord") as caught:
        await channel.check()
    assert not caught.value.permanent


async def test_sending_before_start_says_so(fake: FakeDiscord) -> None:
    with pytest.raises(ChannelError, match="not connected") as caught:
        await channel_for(fake).send(Outbound("123", "Hello."))
    assert not caught.value.permanent


async def test_discord_down_for_a_moment_is_retried_by_discord_py(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.dm(fake.sam, "hi")
    await hub.wait(lambda h: bool(h.messages))
    fake.fail(500)
    await angie.send(Outbound(hub.messages[0].thread, "Hello."))
    assert [m["content"] for m in fake.messages] == ["Hello."]


async def test_two_answers_at_once_start_one_thread(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    message_id = await fake.mention(fake.channel_id, fake.sam, "two things")
    await hub.wait(lambda h: bool(h.messages))
    thread = hub.messages[0].thread
    await asyncio.gather(angie.send(Outbound(thread, "One.")), angie.send(Outbound(thread, "Two.")))
    assert list(fake.threads) == [message_id]
    assert sorted(m["content"] for m in fake.messages) == ["One.", "Two."]
    assert {m["channel_id"] for m in fake.messages} == {message_id}


async def test_a_dropped_gateway_connection_resumes(
    fake: FakeDiscord, hub: RecordingHub, angie: DiscordChannel
) -> None:
    await fake.drop_connections()
    await hub.wait(lambda h: fake.resumes == 1 and h.state is State.CONNECTED)
    assert (State.CONNECTING, "reconnecting to Discord") in hub.reports
    await fake.dm(fake.sam, "still there?")
    await hub.wait(lambda h: bool(h.messages))


async def test_pointing_at_the_fake_moves_no_other_discord_client(
    fake: FakeDiscord, angie: DiscordChannel
) -> None:
    assert Route.BASE == "https://discord.com/api/v10"
    assert type(async_context.get()) is AsyncWebhookAdapter
    assert type(discord.Client(intents=discord.Intents.none()).http) is HTTPClient
