"""The Slack adapter through slack-bolt and slack_sdk against a fake Slack on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from channel_support import RecordingHub
from fakes.slack_platform import FakeSlack, SignedRequest

from angie_channels.base import (
    ApprovalAsk,
    Channel,
    ChannelError,
    Outbound,
    State,
    WebhookRequest,
)
from angie_channels.slack.adapter import SlackChannel, create
from angie_channels.slack.settings import SlackSecrets, SlackSettings

T = "T0HOME"


def channel_for(slack: FakeSlack, *, socket_mode: bool = True, **settings: Any) -> SlackChannel:
    secrets = SlackSecrets(**slack.secrets(socket_mode=socket_mode))
    return create(SlackSettings(**settings), secrets, api_url=slack.api_url)


def as_request(signed: SignedRequest) -> WebhookRequest:
    return WebhookRequest("POST", "/channels/slack/events", signed.headers, {}, signed.body)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def hub() -> RecordingHub:
    return RecordingHub()


@pytest.fixture
async def angie(slack: FakeSlack, hub: RecordingHub) -> AsyncIterator[SlackChannel]:
    """Angie connected to the fake over Socket Mode."""
    channel = channel_for(slack, default_channel="#angie")
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.CONNECTED)
        yield channel
    finally:
        await channel.stop()


@pytest.fixture
async def angie_http(slack: FakeSlack, hub: RecordingHub) -> AsyncIterator[SlackChannel]:
    """Angie taking Slack's events over HTTP (signing secret, no app token)."""
    channel = channel_for(slack, socket_mode=False)
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.CONNECTED)
        yield channel
    finally:
        await channel.stop()


# -- inbound


async def test_slack_channel_is_a_channel(slack: FakeSlack) -> None:
    assert isinstance(channel_for(slack), Channel)


async def test_start_reports_connecting_then_connected_after_hello(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    assert [state for state, _ in hub.reports] == [State.CONNECTING, State.CONNECTED]
    assert slack.connections == 1
    assert [c.method for c in slack.calls] == ["auth.test", "apps.connections.open"]


async def test_direct_message_reaches_angie_with_slack_ids(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    event = slack.dm_event("U0SAM", "what's on today?")
    await slack.wait_ack(await slack.send_event(event))
    await hub.wait(lambda h: bool(h.messages))
    [message] = hub.messages
    ts = event["ts"]
    assert message.message_id == f"{T}:D0SAM:{ts}"
    assert message.sender.id == f"{T}:U0SAM"
    assert message.thread == f"D0SAM:{ts}"
    assert message.text == "what's on today?"
    assert message.direct


async def test_mention_in_a_channel_drops_the_mention_and_keeps_the_thread(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    await slack.mention("C0HOME", "U0SAM", "dim the lights", thread_ts="1700000000.000100")
    await hub.wait(lambda h: bool(h.messages))
    [message] = hub.messages
    assert message.text == "dim the lights"
    assert message.thread == "C0HOME:1700000000.000100"
    assert not message.direct


async def test_slack_markup_in_a_message_reads_as_plain_text(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    text = (
        "is 2 &lt; 3?\nsee <https://example.com/a|the page> and <mailto:lee@home.lan|lee@home.lan>"
    )
    await slack.mention("C0HOME", "U0SAM", f"{text} <@U0LEE>")
    await hub.wait(lambda h: bool(h.messages))
    assert hub.messages[0].text == (
        "is 2 < 3?\nsee the page (https://example.com/a) and lee@home.lan <@U0LEE>"
    )


async def test_her_own_and_other_bots_messages_and_edits_are_ignored(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    own = slack.dm_event(slack.bot_user, "I said this")
    other_bot = slack.dm_event("U0BOT", "beep") | {"bot_id": "B0OTHER"}
    edit = slack.dm_event("U0SAM", "edited") | {"subtype": "message_changed"}
    for event in (own, other_bot, edit):
        await slack.wait_ack(await slack.send_event(event))
    await slack.dm("U0SAM", "only this")
    await hub.wait(lambda h: bool(h.messages))
    assert [m.text for m in hub.messages] == ["only this"]


async def test_other_events_are_acknowledged_and_go_nowhere(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    opened = {"type": "app_home_opened", "user": "U0SAM", "channel": "D0SAM", "tab": "home"}
    await slack.wait_ack(await slack.send_event(opened))
    await slack.dm("U0SAM", "after that")
    await hub.wait(lambda h: bool(h.messages))
    assert [m.text for m in hub.messages] == ["after that"]


async def test_a_redelivered_event_keeps_its_message_id(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    event = slack.dm_event("U0SAM", "once")
    await slack.wait_ack(await slack.send_event(event))
    await slack.wait_ack(await slack.send_event(event, retry_attempt=1))
    await hub.wait(lambda h: len(h.messages) == 2)
    assert hub.messages[0].message_id == hub.messages[1].message_id


async def test_after_slack_asks_to_reconnect_messages_still_arrive(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    await slack.disconnect()
    await slack.wait(lambda s: s.connections == 2 and len(s._sockets) == 1)
    await slack.dm("U0SAM", "still there?")
    await hub.wait(lambda h: bool(h.messages))
    assert hub.messages[0].text == "still there?"


async def test_a_lost_connection_is_reported_and_comes_back_by_itself(
    slack: FakeSlack, hub: RecordingHub
) -> None:
    channel = channel_for(slack)
    channel.ping_interval = 0.2
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.CONNECTED)
        await slack.go_down()
        await hub.wait(lambda h: h.state is State.FAILED)
        detail = hub.reports[-1][1]
        assert detail is not None
        assert "HTTP 503" in detail
        slack.come_back()
        await hub.wait(lambda h: h.state is State.CONNECTED)
        await slack.dm("U0SAM", "you're back")
        await hub.wait(lambda h: bool(h.messages))
    finally:
        await channel.stop()
    assert State.CONNECTING in [state for state, _ in hub.reports[2:]]


# -- outbound


async def test_send_with_a_mention_posts_in_the_thread(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    sent = await angie.send(
        Outbound("C0HOME:1700000000.000100", "the lights are dimmed", mention=f"{T}:U0SAM")
    )
    [post] = slack.posts
    assert post.text == "<@U0SAM> the lights are dimmed"
    assert (post.channel, post.thread_ts) == ("C0HOME", "1700000000.000100")
    assert sent.message_id == post.ts
    assert sent.thread == "C0HOME:1700000000.000100"


async def test_a_message_to_a_channel_name_goes_at_top_level_and_starts_a_thread(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    sent = await angie.send(Outbound("#angie", "good morning"))
    [post] = slack.posts
    assert (post.channel, post.thread_ts, post.text) == ("C0ANGIE", None, "good morning")
    assert sent.thread == f"C0ANGIE:{post.ts}"


async def test_text_is_escaped_so_slack_takes_none_of_it_for_markup(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    await angie.send(Outbound("#angie", "2 < 3 & <@U0LEE> > 1", mention=f"{T}:U0SAM"))
    assert slack.posts[0].text == "<@U0SAM> 2 &lt; 3 &amp; &lt;@U0LEE&gt; &gt; 1"


async def test_a_very_long_approval_request_still_posts(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    await angie.ask_approval(ApprovalAsk("#angie", "Send this? " + "x" * 5000, "ref-8", "1234"))
    [post] = slack.posts
    assert post.blocks is not None
    assert post.blocks[0]["text"]["text"].endswith("…")


async def test_mention_is_slacks_user_reference(slack: FakeSlack) -> None:
    assert channel_for(slack).mention(f"{T}:U0SAM") == "<@U0SAM>"


async def test_an_unknown_channel_is_a_permanent_error_naming_it(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    with pytest.raises(ChannelError, match="#nowhere") as caught:
        await angie.send(Outbound("#nowhere", "hello?"))
    assert caught.value.permanent


# -- approvals


async def ask(angie: SlackChannel, slack: FakeSlack) -> None:
    await angie.ask_approval(
        ApprovalAsk("C0HOME:1700000000.000100", "Send the email to Lee?", "ref-7", "4821")
    )
    await slack.wait(lambda s: s.posts)


async def test_an_approval_request_has_approve_and_deny_buttons_carrying_the_ref(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    await ask(angie, slack)
    [post] = slack.posts
    assert post.thread_ts == "1700000000.000100"
    assert post.blocks is not None
    section, actions = post.blocks
    assert section["text"]["text"] == "Send the email to Lee?"
    buttons = {b["action_id"]: b for b in actions["elements"]}
    assert buttons["angie_approve"]["style"] == "primary"
    assert buttons["angie_deny"]["style"] == "danger"
    assert {b["value"] for b in buttons.values()} == {"ref-7"}


async def test_a_click_decides_and_the_message_shows_who_decided(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    await ask(angie, slack)
    [post] = slack.posts
    envelope = await slack.click("U0SAM", post, "angie_approve")
    await slack.wait_ack(envelope)
    await slack.wait(lambda s: s.updates)
    [decision] = hub.decisions
    assert decision.approve
    assert decision.ref == "ref-7"
    assert decision.sender.id == f"{T}:U0SAM"
    assert decision.thread == "C0HOME:1700000000.000100"
    assert post.text == "Approved"
    assert post.blocks is not None
    assert [b["type"] for b in post.blocks] == ["section", "context"]
    assert post.blocks[0]["text"]["text"] == "Send the email to Lee?"


async def test_a_refused_click_leaves_the_buttons_and_tells_only_the_clicker(
    slack: FakeSlack, hub: RecordingHub, angie: SlackChannel
) -> None:
    hub.decide = lambda decision: None
    await ask(angie, slack)
    [post] = slack.posts
    await slack.click("U0LEE", post, "angie_deny")
    await slack.wait(lambda s: s.ephemerals)
    [decision] = hub.decisions
    assert not decision.approve
    assert slack.updates == []
    assert slack.ephemerals[0]["user"] == "U0LEE"
    assert "Only the person who asked" in slack.ephemerals[0]["text"]


async def test_show_decision_replaces_the_buttons(slack: FakeSlack, angie: SlackChannel) -> None:
    await ask(angie, slack)
    [post] = slack.posts
    await angie.show_decision("C0HOME:1700000000.000100", post.ts, "Denied by Sam")
    assert post.text == "Denied by Sam"
    assert post.blocks is not None
    assert all(b["type"] != "actions" for b in post.blocks)


# -- rate limits, outages, credentials


async def test_a_rate_limit_is_waited_out_for_its_retry_after(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    slack.rate_limit(1, retry_after=1)
    await angie.send(Outbound("#angie", "after the pause"))
    refused, accepted = [c for c in slack.calls if c.method == "chat.postMessage"]
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1
    assert len(slack.posts) == 1


async def test_a_rate_limit_that_persists_says_when_to_retry(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    slack.rate_limit(2, retry_after=1)
    with pytest.raises(ChannelError, match="rate limiting") as caught:
        await angie.send(Outbound("#angie", "too soon"))
    assert caught.value.retry_after == 1
    assert not caught.value.permanent


async def test_posting_without_the_chat_write_scope_names_it() -> None:
    async with FakeSlack(scopes=("app_mentions:read", "im:history")) as slack:
        with pytest.raises(ChannelError, match="chat:write") as caught:
            await channel_for(slack).send(Outbound("#angie", "hello"))
    assert caught.value.permanent


async def test_slack_being_down_is_an_error_worth_retrying(
    slack: FakeSlack, angie: SlackChannel
) -> None:
    await slack.go_down()
    with pytest.raises(ChannelError, match="503") as caught:
        await angie.send(Outbound("#angie", "hello?"))
    assert not caught.value.permanent
    slack.come_back()
    await angie.send(Outbound("#angie", "hello again"))
    assert [p.text for p in slack.posts] == ["hello again"]


async def test_slack_unreachable_is_an_error_worth_retrying(slack: FakeSlack) -> None:
    channel = channel_for(slack)
    await slack.stop()
    with pytest.raises(ChannelError, match="could not reach Slack") as caught:
        await channel.send(Outbound("#angie", "anyone?"))
    assert not caught.value.permanent


def test_a_channel_without_the_tokens_it_needs_is_refused_in_words() -> None:
    with pytest.raises(ChannelError, match="or the app's signing secret"):
        create(SlackSettings(), SlackSecrets(bot_token="xoxb-1111-2222-fakebottoken"))


async def test_check_says_who_angie_is_and_where(slack: FakeSlack) -> None:
    assert await channel_for(slack).check() == f"@angie in Home ({T})"


async def test_check_with_a_wrong_bot_token_says_what_to_do() -> None:
    async with FakeSlack(bot_token="xoxb-2222-3333-theotherone") as other:
        channel = channel_for(other)
        other.bot_token = "xoxb-9999-9999-whatslackknows"
        with pytest.raises(ChannelError, match="invalid_auth") as caught:
            await channel.check()
    assert caught.value.permanent
    assert "copy the Bot User OAuth Token again" in str(caught.value)


async def test_check_with_a_missing_scope_names_it() -> None:
    async with FakeSlack(scopes=("chat:write", "im:history")) as slack:
        with pytest.raises(ChannelError, match="app_mentions:read") as caught:
            await channel_for(slack).check()
    assert caught.value.permanent


async def test_start_with_a_revoked_token_fails_for_good(
    slack: FakeSlack, hub: RecordingHub
) -> None:
    slack.revoke()
    channel = channel_for(slack)
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.FAILED)
    finally:
        await channel.stop()
    detail = hub.reports[-1][1]
    assert detail is not None
    assert "token_revoked" in detail
    assert slack.connections == 0


async def test_start_while_slack_is_down_keeps_trying_until_it_is_back(
    slack: FakeSlack, hub: RecordingHub
) -> None:
    await slack.go_down()
    channel = channel_for(slack)
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.FAILED)
        slack.come_back()
        await hub.wait(lambda h: h.state is State.CONNECTED)
    finally:
        await channel.stop()
    assert slack.connections == 1


async def test_start_with_a_wrong_app_token_fails_naming_the_app_token(
    slack: FakeSlack, hub: RecordingHub
) -> None:
    channel = channel_for(slack)
    slack.app_token = "xapp-1-A111-0000-another"
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.FAILED)
    finally:
        await channel.stop()
    detail = hub.reports[-1][1]
    assert detail is not None
    assert "app-level token (invalid_auth)" in detail


# -- events over HTTP


async def test_a_signed_event_over_http_reaches_angie(
    slack: FakeSlack, hub: RecordingHub, angie_http: SlackChannel
) -> None:
    reply = await angie_http.webhook(as_request(slack.signed_event(slack.dm_event("U0SAM", "hi"))))
    assert reply.status == 200
    await hub.wait(lambda h: bool(h.messages))
    assert hub.messages[0].sender.id == f"{T}:U0SAM"
    assert slack.connections == 0


@pytest.mark.parametrize(
    "forgery",
    [
        {"secret": "not-the-signing-secret-at-all"},
        {"timestamp": int(time.time()) - 6 * 60},
    ],
    ids=["wrong-secret", "stale"],
)
async def test_a_forged_or_stale_request_is_refused_and_reaches_nobody(
    slack: FakeSlack, hub: RecordingHub, angie_http: SlackChannel, forgery: dict[str, Any]
) -> None:
    signed = slack.signed_event(slack.dm_event("U0SAM", "let me in"), **forgery)
    reply = await angie_http.webhook(as_request(signed))
    assert reply.status == 401
    assert hub.messages == []


async def test_an_unsigned_request_is_refused(
    slack: FakeSlack, hub: RecordingHub, angie_http: SlackChannel
) -> None:
    body = json.dumps(slack.event_callback(slack.dm_event("U0SAM", "hi"))).encode()
    reply = await angie_http.webhook(WebhookRequest("POST", "/", {}, {}, body))
    assert reply.status == 401
    assert hub.messages == []


async def test_an_event_angie_does_not_use_is_still_answered_200_over_http(
    slack: FakeSlack, hub: RecordingHub, angie_http: SlackChannel
) -> None:
    opened = {"type": "app_home_opened", "user": "U0SAM", "channel": "D0SAM", "tab": "home"}
    reply = await angie_http.webhook(as_request(slack.signed_event(opened)))
    assert reply.status == 200
    assert hub.messages == []


async def test_url_verification_is_answered_with_the_challenge(
    slack: FakeSlack, angie_http: SlackChannel
) -> None:
    reply = await angie_http.webhook(as_request(slack.url_verification("c-3po")))
    assert reply.status == 200
    assert json.loads(reply.body) == {"challenge": "c-3po"}


async def test_a_button_click_over_http_decides(
    slack: FakeSlack, hub: RecordingHub, angie_http: SlackChannel
) -> None:
    await ask(angie_http, slack)
    [post] = slack.posts
    signed = slack.signed_click(slack.click_payload("U0SAM", post, "angie_deny"))
    reply = await angie_http.webhook(as_request(signed))
    assert reply.status == 200
    await slack.wait(lambda s: s.updates)
    assert hub.decisions[0].ref == "ref-7"
    assert not hub.decisions[0].approve
    assert post.text == "Denied"


async def test_before_start_events_are_turned_back_but_the_address_check_is_answered(
    slack: FakeSlack, hub: RecordingHub
) -> None:
    channel = channel_for(slack, socket_mode=False)
    event = await channel.webhook(as_request(slack.signed_event(slack.dm_event("U0SAM", "hi"))))
    check = await channel.webhook(as_request(slack.url_verification("r2-d2")))
    assert event.status == 503  # Slack sends it again later
    assert (check.status, json.loads(check.body)) == (200, {"challenge": "r2-d2"})


async def test_a_socket_mode_channel_has_no_webhook(slack: FakeSlack, angie: SlackChannel) -> None:
    reply = await angie.webhook(as_request(slack.signed_event(slack.dm_event("U0SAM", "hi"))))
    assert reply.status == 404


async def test_slack_posting_events_to_angies_address_reaches_her(
    slack: FakeSlack, hub: RecordingHub, angie_http: SlackChannel
) -> None:
    async def events(request: web.Request) -> web.Response:
        reply = await angie_http.webhook(
            WebhookRequest(
                request.method,
                request.path,
                dict(request.headers),
                dict(request.query),
                await request.read(),
            )
        )
        return web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))

    app = web.Application()
    app.router.add_post("/channels/slack/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        slack.events_url = f"http://127.0.0.1:{runner.addresses[0][1]}/channels/slack/events"
        await slack.mention("C0HOME", "U0SAM", "what's the weather?")
        await hub.wait(lambda h: bool(h.messages))
        await ask(angie_http, slack)
        await slack.click("U0SAM", slack.posts[0], "angie_approve")
        await slack.wait(lambda s: s.updates)
    finally:
        await runner.cleanup()
    assert hub.messages[0].text == "what's the weather?"
    assert hub.decisions[0].approve
