"""The iMessage channel against a fake BlueBubbles server on loopback: webhooks in (through a
small HTTP receiver that hands each call to the adapter, as Angie's API does), REST out."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from channel_support import RecordingHub
from fakes.bluebubbles_platform import FakeBlueBubbles, direct_chat, group_chat

from angie_channels.base import (
    ApprovalAsk,
    Channel,
    ChannelError,
    Decision,
    Inbound,
    Outbound,
    Sender,
    State,
    WebhookRequest,
)
from angie_channels.imessage.adapter import IMessageChannel, create
from angie_channels.imessage.settings import IMessageSecrets, IMessageSettings

PASSWORD = "bb-password-for-tests"
SECRET = "a-long-random-webhook-secret"
SAM = "+15551234567"
SEND = "/api/v1/message/text"


@dataclass
class Setup:
    bb: FakeBlueBubbles
    channel: IMessageChannel
    hub: RecordingHub


def make_channel(
    url: str, *, password: str = PASSWORD, secret: str = SECRET, timeout: float = 10.0
) -> IMessageChannel:
    return create(
        IMessageSettings(server_url=url),
        IMessageSecrets(password=password, webhook_secret=secret),
        timeout=timeout,
    )


async def _receiver(channel: IMessageChannel) -> web.AppRunner:
    """Angie's webhook address, as her API serves it: the request goes to the adapter whole."""

    async def forward(request: web.Request) -> web.Response:
        reply = await channel.webhook(
            WebhookRequest(
                method=request.method,
                path=request.path,
                headers=dict(request.headers),
                query=dict(request.query),
                body=await request.read(),
            )
        )
        return web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))

    app = web.Application()
    app.router.add_route("*", "/api/channels/imessage/webhook", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    return runner


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with FakeBlueBubbles(password=PASSWORD, webhook_secret=SECRET) as bb:
        channel = make_channel(bb.url)
        hub = RecordingHub()
        runner = await _receiver(channel)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        bb.webhook_url = f"http://127.0.0.1:{port}/api/channels/imessage/webhook"
        await channel.start(hub)
        try:
            await hub.wait(lambda h: h.state is State.CONNECTED)
            yield Setup(bb, channel, hub)
        finally:
            await channel.stop()
            await runner.cleanup()


async def test_the_adapter_is_a_channel() -> None:
    channel = make_channel("http://127.0.0.1:9")
    await channel.stop()
    assert isinstance(channel, Channel)
    assert channel.kind == "imessage"


# Receiving.


async def test_a_message_from_someone_reaches_the_hub(setup: Setup) -> None:
    answer = await setup.bb.incoming("+1 (555) 123-4567", "Is the lamp on?", guid="MSG-1")

    assert answer.status == 200, answer.text
    assert setup.hub.messages == [
        Inbound(
            message_id="MSG-1",
            sender=Sender(SAM),
            thread=direct_chat("+1 (555) 123-4567"),
            text="Is the lamp on?",
            direct=True,
        )
    ]


async def test_an_email_sender_is_lower_cased(setup: Setup) -> None:
    await setup.bb.incoming("Sam@iCloud.COM", "hi")
    assert [m.sender.id for m in setup.hub.messages] == ["sam@icloud.com"]


async def test_angies_own_messages_are_ignored(setup: Setup) -> None:
    answer = await setup.bb.incoming(SAM, "The lamp is on.", from_me=True)
    assert answer.status == 200
    assert setup.hub.messages == []


async def test_a_redelivered_message_keeps_its_id_for_the_hub_to_drop(setup: Setup) -> None:
    await setup.bb.incoming(SAM, "hello", guid="MSG-2")
    await setup.bb.incoming(SAM, "hello", guid="MSG-2")
    assert [m.message_id for m in setup.hub.messages] == ["MSG-2", "MSG-2"]


async def test_a_wrong_secret_is_refused_and_nothing_reaches_the_hub(setup: Setup) -> None:
    wrong = await setup.bb.incoming(SAM, "hello", secret="not-the-webhook-secret")
    missing = await setup.bb.incoming(SAM, "hello", secret="")

    assert (wrong.status, missing.status) == (401, 401)
    assert wrong.text == "wrong or missing webhook secret"
    assert setup.hub.messages == []
    assert setup.hub.decisions == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "the body is not JSON"),
        (b"[1, 2]", "the body is not a JSON object"),
        (b'{"data": {}}', "the event has no type"),
        (b'{"type": "new-message", "data": []}', "new-message data is not an object"),
        (b'{"type": "new-message", "data": {"isFromMe": false}}', "new-message data has no guid"),
        (
            b'{"type": "new-message", "data": {"guid": "G", "isFromMe": false, "text": "hi",'
            b' "chats": [{"guid": "iMessage;-;+15551234567"}]}}',
            "new-message data has no handle.address",
        ),
        (
            b'{"type": "new-message", "data": {"guid": "G", "isFromMe": false, "text": "hi",'
            b' "handle": {"address": "+15551234567"}, "chats": []}}',
            "new-message data has no chats[0].guid",
        ),
    ],
)
async def test_a_malformed_webhook_is_refused_with_a_reason(
    setup: Setup, body: bytes, reason: str
) -> None:
    answer = await setup.bb.post_raw(body)
    assert (answer.status, answer.text) == (400, reason)
    assert setup.hub.messages == []


async def test_other_events_are_acknowledged_and_ignored(setup: Setup) -> None:
    answer = await setup.bb.post_event(
        "typing-indicator", {"display": True, "guid": direct_chat(SAM)}
    )
    assert answer.status == 200
    assert setup.hub.messages == []


async def test_a_group_chat_without_angies_name_is_ignored(setup: Setup) -> None:
    answer = await setup.bb.incoming(SAM, "who took the car?", chat_guid=group_chat())
    assert answer.status == 200
    assert setup.hub.messages == []


async def test_a_group_chat_message_to_angie_loses_her_name(setup: Setup) -> None:
    await setup.bb.incoming(SAM, "@Angie, is the lamp on?", chat_guid=group_chat("chat42"))
    await setup.bb.incoming(SAM, "angie what's for dinner", chat_guid=group_chat("chat42"))

    assert [(m.text, m.direct, m.thread) for m in setup.hub.messages] == [
        ("is the lamp on?", False, "iMessage;+;chat42"),
        ("what's for dinner", False, "iMessage;+;chat42"),
    ]


async def test_a_webhook_must_be_posted(setup: Setup) -> None:
    reply = await setup.channel.webhook(WebhookRequest("GET", "/", {}, {"secret": SECRET}, b""))
    assert (reply.status, reply.headers.get("Allow")) == (405, "POST")


async def test_a_webhook_before_start_is_refused() -> None:
    channel = make_channel("http://127.0.0.1:9")
    try:
        reply = await channel.webhook(
            WebhookRequest("POST", "/", {}, {"secret": SECRET}, b'{"type": "x", "data": 1}')
        )
    finally:
        await channel.stop()
    assert reply.status == 503


# Approvals.


async def test_yes_with_the_code_approves_and_the_answer_goes_back(setup: Setup) -> None:
    answer = await setup.bb.incoming(SAM, "Yes 4821", guid="MSG-3")

    assert answer.status == 200
    assert setup.hub.decisions == [
        Decision(Sender(SAM), direct_chat(SAM), True, code="4821", message_id="MSG-3")
    ]
    assert setup.hub.messages == []
    sent = await setup.bb.wait_sent(1)
    assert [(s.chat_guid, s.text) for s in sent] == [(direct_chat(SAM), "Approved")]


async def test_no_with_the_code_denies(setup: Setup) -> None:
    await setup.bb.incoming(SAM, "no 4821")
    assert [(d.approve, d.code) for d in setup.hub.decisions] == [(False, "4821")]
    assert [s.text for s in await setup.bb.wait_sent(1)] == ["Denied"]


async def test_a_refused_decision_sends_nothing(setup: Setup) -> None:
    setup.hub.decide = lambda d: None
    await setup.bb.incoming(SAM, "deny 123456")
    assert [d.code for d in setup.hub.decisions] == ["123456"]
    assert setup.bb.sent == []


async def test_a_decision_in_a_group_chat_needs_no_name(setup: Setup) -> None:
    await setup.bb.incoming(SAM, "approve 4821", chat_guid=group_chat())
    assert [(d.approve, d.thread) for d in setup.hub.decisions] == [(True, group_chat())]


async def test_yes_without_a_code_is_a_message(setup: Setup) -> None:
    await setup.bb.incoming(SAM, "yes please")
    assert setup.hub.decisions == []
    assert [m.text for m in setup.hub.messages] == ["yes please"]


async def test_an_approval_request_says_how_to_answer(setup: Setup) -> None:
    sent = await setup.channel.ask_approval(
        ApprovalAsk(direct_chat(SAM), "May I unlock the door?", ref="r1", code="4821")
    )

    [text] = setup.bb.sent
    assert text.text == (
        'May I unlock the door?\n\nReply "yes 4821" to approve or "no 4821" to deny.'
    )
    assert sent.message_id == text.guid


async def test_show_decision_replies_in_the_chat(setup: Setup) -> None:
    await setup.channel.show_decision(direct_chat(SAM), "MSG-9", "Approved by Sam")
    assert [(s.chat_guid, s.text) for s in setup.bb.sent] == [(direct_chat(SAM), "Approved by Sam")]


# Sending.


async def test_send_reaches_the_chat_with_a_temp_guid(setup: Setup) -> None:
    sent = await setup.channel.send(Outbound(direct_chat(SAM), "The lamp is on."))

    [text] = setup.bb.sent
    assert (text.chat_guid, text.text, text.method) == (
        direct_chat(SAM),
        "The lamp is on.",
        "apple-script",
    )
    assert len(text.temp_guid) == 36  # a uuid
    assert sent.message_id == text.guid


async def test_each_message_has_its_own_temp_guid(setup: Setup) -> None:
    await setup.channel.send(Outbound(direct_chat(SAM), "one"))
    await setup.channel.send(Outbound(direct_chat(SAM), "two"))
    assert len({s.temp_guid for s in setup.bb.sent}) == 2


async def test_a_5xx_is_tried_again_with_the_same_temp_guid(setup: Setup) -> None:
    setup.bb.fail(503, times=2, path=SEND)

    await setup.channel.send(Outbound(direct_chat(SAM), "hello"))

    assert [s.text for s in setup.bb.sent] == ["hello"]
    posts = setup.bb.text_posts
    assert len(posts) == 3
    assert len({p["tempGuid"] for p in posts}) == 1


async def test_a_send_still_in_flight_is_not_sent_twice() -> None:
    async with FakeBlueBubbles(password=PASSWORD, webhook_secret=SECRET) as bb:
        channel = make_channel(bb.url, timeout=0.3)
        bb.slow_sends = 4.0  # Messages is slow; Angie stops waiting, BlueBubbles goes on
        try:
            sent = await channel.send(Outbound(direct_chat(SAM), "hello"))
            await bb.wait_sent(1)
        finally:
            await channel.stop()
    # Tried again with the same tempGuid, which BlueBubbles refused as already queued.
    posts = bb.text_posts
    assert len(posts) == 2
    assert posts[0]["tempGuid"] == posts[1]["tempGuid"] == sent.message_id
    assert [s.text for s in bb.sent] == ["hello"]


async def test_a_send_made_but_answered_late_is_not_sent_again(setup: Setup) -> None:
    setup.bb.answer_late(times=1)  # sent, but BlueBubbles answers 504

    sent = await setup.channel.send(Outbound(direct_chat(SAM), "hello"))

    [text] = setup.bb.sent
    assert len(setup.bb.text_posts) == 1  # the chat showed it was sent: not posted again
    assert sent.message_id == text.guid


async def test_a_retry_by_angie_of_a_message_already_made_sends_nothing(setup: Setup) -> None:
    setup.bb.answer_late(times=1)  # made, answered 504; then the chat cannot be looked at
    setup.bb.fail(503, times=2, path=f"/api/v1/chat/{direct_chat(SAM)}/message")
    message = Outbound(direct_chat(SAM), "hello")
    with pytest.raises(ChannelError):
        await setup.channel.send(message)

    sent = await setup.channel.send(message)  # the hub's retry, later

    [text] = setup.bb.sent
    assert len(setup.bb.text_posts) == 1
    assert sent.message_id == text.guid


async def test_the_same_words_sent_on_purpose_twice_go_out_twice(setup: Setup) -> None:
    await setup.channel.send(Outbound(direct_chat(SAM), "Done."))
    setup.bb.fail(503, path=SEND)  # the second one's first attempt fails before it is sent

    await setup.channel.send(Outbound(direct_chat(SAM), "Done."))

    assert [s.text for s in setup.bb.sent] == ["Done.", "Done."]


async def test_a_retry_by_angie_reuses_the_temp_guid(setup: Setup) -> None:
    setup.bb.fail(503, times=3, path=SEND)  # every attempt of the first send fails
    message = Outbound(direct_chat(SAM), "hello")
    with pytest.raises(ChannelError) as failed:
        await setup.channel.send(message)
    assert not failed.value.permanent

    await setup.channel.send(message)

    [text] = setup.bb.sent
    assert len(setup.bb.text_posts) == 4
    assert {p["tempGuid"] for p in setup.bb.text_posts} == {text.temp_guid}


async def test_a_wrong_password_is_a_permanent_error_naming_the_fix() -> None:
    async with FakeBlueBubbles(password=PASSWORD) as bb:
        channel = make_channel(bb.url, password="not-the-password")
        try:
            with pytest.raises(ChannelError) as refused:
                await channel.check()
            with pytest.raises(ChannelError) as send:
                await channel.send(Outbound(direct_chat(SAM), "hello"))
        finally:
            await channel.stop()
    assert refused.value.permanent
    assert send.value.permanent
    assert str(refused.value) == (
        "BlueBubbles refused the password; set the server password again with "
        "`angie config imessage --password`."
    )
    assert bb.sent == []


async def test_rate_limiting_says_when_to_retry(setup: Setup) -> None:
    setup.bb.fail(429, retry_after=12, path=SEND)
    with pytest.raises(ChannelError) as limited:
        await setup.channel.send(Outbound(direct_chat(SAM), "hello"))
    assert limited.value.retry_after == 12
    assert not limited.value.permanent


async def test_check_names_the_server_and_its_version(setup: Setup) -> None:
    assert await setup.channel.check() == f"BlueBubbles 1.9.9 at {setup.bb.url}"
    await setup.hub.wait(lambda h: h.state is State.CONNECTED)
    assert setup.hub.reports[-1] == (State.CONNECTED, f"BlueBubbles 1.9.9 at {setup.bb.url}")


async def test_an_unreachable_server_is_a_clear_passing_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here
    channel = make_channel(f"http://127.0.0.1:{port}")
    hub = RecordingHub()
    try:
        with pytest.raises(ChannelError) as down:
            await channel.check()
        await channel.start(hub)
        await hub.wait(lambda h: h.state is State.FAILED)
    finally:
        await channel.stop()
    assert not down.value.permanent
    assert str(down.value) == (
        f"BlueBubbles at http://127.0.0.1:{port} could not be reached; is the server running "
        "and the address right?"
    )


async def test_a_server_that_went_down_and_came_back_gets_the_message(setup: Setup) -> None:
    await setup.bb.go_down()
    with pytest.raises(ChannelError) as down:
        await setup.channel.send(Outbound(direct_chat(SAM), "hello"))
    assert not down.value.permanent
    await setup.bb.come_back()

    await setup.channel.send(Outbound(direct_chat(SAM), "hello"))

    assert [s.text for s in setup.bb.sent] == ["hello"]


async def test_the_private_api_is_used_where_the_server_has_it() -> None:
    async with FakeBlueBubbles(password=PASSWORD, private_api=True) as bb:
        channel = make_channel(bb.url)
        try:
            await channel.check()
            await channel.send(Outbound(direct_chat(SAM), "hello"))
        finally:
            await channel.stop()
    assert [s.method for s in bb.sent] == ["private-api"]


async def test_the_password_stays_out_of_logs_and_errors(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    setup.bb.fail(503, times=3, path=SEND)
    with pytest.raises(ChannelError) as failed:
        await setup.channel.send(Outbound(direct_chat(SAM), "hello"))
    await setup.channel.send(Outbound(direct_chat(SAM), "hello"))

    assert "HTTP Request: POST" in caplog.text  # httpx did log the calls
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(failed.value)


async def test_mention_is_empty_since_imessage_has_none() -> None:
    channel = make_channel("http://127.0.0.1:9")
    await channel.stop()
    assert channel.mention(SAM) == ""
