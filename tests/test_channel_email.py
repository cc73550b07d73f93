"""The email channel against a real Dovecot (IMAP, STARTTLS) and an aiosmtpd submission server:
mail in becomes Angie's untrusted messages in their threads, her replies thread in mail
programs, approvals by reply, reconnects lose nothing, and passwords never travel in clear."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from channel_support import RecordingHub
from fakes.mail_servers import MailServers, SentMail, require_dovecot

from angie_channels.base import ApprovalAsk, ChannelError, Outbound, State
from angie_channels.email.adapter import EmailChannel, create
from angie_channels.email.imap import ImapSession
from angie_channels.email.security import (
    Endpoint,
)
from angie_channels.email.settings import EmailSecrets

SAM = "Sam Lee <Sam@Example.com>"


async def eventually(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Until ``predicate()`` holds: for what only shows on disk (the maildir's flags)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - a file has no event to wait on
            await asyncio.sleep(0.05)


def text_of(sent: SentMail) -> str:
    return str(sent.message.get_content()).replace("\r\n", "\n").strip()


def connected(hub: RecordingHub) -> bool:
    return hub.state is State.CONNECTED


@pytest.fixture
async def mail() -> AsyncIterator[MailServers]:
    require_dovecot()
    async with MailServers() as servers:
        yield servers


@pytest.fixture
async def hub() -> RecordingHub:
    return RecordingHub()


@pytest.fixture
async def channel(mail: MailServers, hub: RecordingHub) -> AsyncIterator[EmailChannel]:
    """Angie's mailbox, watched: connected before the test writes to it."""
    channel = create(mail.settings, mail.secrets, ssl_context=mail.client_ssl_context)
    await channel.start(hub)
    try:
        await hub.wait(connected)
        yield channel
    finally:
        await channel.stop()


async def test_a_mail_becomes_an_untrusted_message_without_its_quoted_history(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    body = (
        "Is the hall lamp still on?\n\n"
        "On Mon, 30 Nov 2026 at 09:12, Angie <angie@example.com>\nwrote:\n"
        "> The hall lamp is on.\n"
    )
    message_id = await mail.deliver(SAM, mail.address, "Hall lamp", body)
    await hub.wait(lambda h: len(h.messages) == 1)

    (inbound,) = hub.messages
    assert inbound.message_id == message_id
    assert inbound.thread == message_id  # a new conversation: its root is this mail
    assert (inbound.sender.id, inbound.sender.name) == ("sam@example.com", "Sam Lee")
    assert inbound.text == "Hall lamp\n\nIs the hall lamp still on?"
    assert inbound.untrusted
    assert inbound.direct
    await eventually(lambda: mail.flags() == ["S"])  # seen once handed on


async def test_a_reply_to_angies_reply_stays_in_the_same_thread(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    root = await mail.deliver(SAM, mail.address, "Hall lamp", "Is the lamp on?")
    await hub.wait(lambda h: len(h.messages) == 1)
    answer = await channel.send(Outbound(thread=root, text="Yes, it is on."))

    await mail.deliver(
        SAM,
        mail.address,
        "Re: Hall lamp",
        "Turn it off please.\n\n> Yes, it is on.",
        in_reply_to=answer.message_id,
        references=f"{root} {answer.message_id}",
    )
    # Some mail programs keep only In-Reply-To: the thread is still known from Angie's reply.
    await mail.deliver(SAM, mail.address, "Re: Hall lamp", "Thanks!", answer.message_id)
    await hub.wait(lambda h: len(h.messages) == 3)

    assert [m.thread for m in hub.messages] == [root, root, root]
    assert [m.text for m in hub.messages[1:]] == ["Turn it off please.", "Thanks!"]


async def test_auto_replies_bounces_and_angies_own_mail_are_ignored(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    await mail.deliver(
        SAM,
        mail.address,
        "Out of office",
        "Away.",
        None,
        headers={"Auto-Submitted": "auto-replied"},
    )
    await mail.deliver(
        "news@shop.example", mail.address, "Sale", "50% off", headers={"Precedence": "bulk"}
    )
    await mail.deliver("MAILER-DAEMON@mx.example", mail.address, "Undeliverable", "Bounced.")
    await mail.deliver(f"Angie <{mail.address}>", mail.address, "Note to self", "Loop?")
    await mail.deliver(SAM, mail.address, "Real", "A person writes.")
    await hub.wait(lambda h: len(h.messages) == 1)

    assert hub.messages[0].text == "Real\n\nA person writes."
    await eventually(lambda: mail.flags() == ["S"] * 5)  # all read, none left to loop on


async def test_angies_reply_carries_the_headers_mail_programs_thread_by(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    root = await mail.deliver(SAM, mail.address, "Hall lamp", "Is the lamp on?")
    await hub.wait(lambda h: len(h.messages) == 1)

    sent = await channel.send(
        Outbound(thread=root, text="Yes, it is on.", mention="sam@example.com")
    )

    (out,) = await mail.wait_sent(1)
    assert out.mail_from == mail.address
    assert out.rcpt_tos == ("sam@example.com",)
    message = out.message
    assert message["Message-ID"] == sent.message_id
    assert sent.message_id.endswith("@example.com>")
    assert message["In-Reply-To"] == root
    assert message["References"] == root
    assert message["Subject"] == "Re: Hall lamp"
    assert message["Auto-Submitted"] == "auto-replied"
    assert text_of(out) == "Yes, it is on."
    assert channel.mention("sam@example.com") == ""


async def test_angie_starts_a_thread_and_the_answer_lands_in_it(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    sent = await channel.send(Outbound(thread="to:sam@example.com", text="The washer is done."))

    (out,) = await mail.wait_sent(1)
    assert out.message["Subject"] == "A message from Angie"
    assert out.message["In-Reply-To"] is None
    assert sent.thread == sent.message_id == out.message["Message-ID"]
    await mail.deliver(SAM, mail.address, "Re: A message from Angie", "Thanks", sent.message_id)
    await hub.wait(lambda h: len(h.messages) == 1)
    assert hub.messages[0].thread == sent.thread


async def test_a_yes_code_reply_is_a_decision_and_angie_confirms_it(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    root = await mail.deliver(SAM, mail.address, "Lamp", "Turn on the lamp")
    await hub.wait(lambda h: len(h.messages) == 1)
    ask = await channel.ask_approval(
        ApprovalAsk(thread=root, text="May I turn on the lamp?", ref="r1", code="4821")
    )
    (question,) = await mail.wait_sent(1)
    assert text_of(question) == (
        'May I turn on the lamp?\n\nReply "yes 4821" to approve or "no 4821" to deny.'
    )

    reply = await mail.deliver(
        SAM,
        mail.address,
        "Re: Lamp",
        "\n  Yes 4821 \n\nOn Tue, Angie wrote:\n> May I turn on the lamp?",
        ask.message_id,
        references=f"{root} {ask.message_id}",
    )
    await hub.wait(lambda h: len(h.decisions) == 1)

    (decision,) = hub.decisions
    assert (decision.approve, decision.code, decision.thread) == (True, "4821", root)
    assert decision.message_id == reply
    assert decision.sender.id == "sam@example.com"
    assert len(hub.messages) == 1  # a decision is not a message
    _, confirmation = await mail.wait_sent(2)
    assert text_of(confirmation) == "Approved"
    assert confirmation.message["In-Reply-To"] == reply


async def test_a_restarted_imap_server_is_reconnected_and_no_mail_is_lost(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    await mail.stop_imap()
    await hub.wait(lambda h: h.state is State.CONNECTING)
    message_id = await mail.deliver(SAM, mail.address, "Meanwhile", "Written while it was down.")
    await mail.start_imap()

    await hub.wait(lambda h: len(h.messages) == 1, within=30)
    assert hub.messages[0].message_id == message_id
    assert hub.state is State.CONNECTED


async def test_a_mailbox_without_idle_is_polled() -> None:
    require_dovecot()
    hub = RecordingHub()
    async with MailServers(idle=False) as mail:
        channel = create(
            mail.settings, mail.secrets, ssl_context=mail.client_ssl_context, poll_seconds=0.2
        )
        await channel.start(hub)
        try:
            await hub.wait(connected)
            await mail.deliver(SAM, mail.address, "Polled", "Found by polling.")
            await hub.wait(lambda h: len(h.messages) == 1)
        finally:
            await channel.stop()


async def test_check_names_angie_and_her_servers(mail: MailServers) -> None:
    channel = create(mail.settings, mail.secrets, ssl_context=mail.client_ssl_context)
    assert await channel.check() == "angie@example.com (IMAP 127.0.0.1, SMTP 127.0.0.1)"
    assert "TLS, session=" in mail.imap_log()  # Dovecot logs logins made over TLS so


async def test_imap_on_its_tls_port_speaks_tls_from_the_first_byte(mail: MailServers) -> None:
    # Dovecot's imaps listener answers nothing but a TLS handshake: a session proves it.
    tls = Endpoint(
        "IMAP",
        "127.0.0.1",
        mail.imaps_port,
        mail.address,
        mail.password,
        mail.client_ssl_context,
        tls_port=mail.imaps_port,
    )
    session = await ImapSession.open(tls)
    try:
        assert await session.unseen() == []
    finally:
        await session.close()


async def test_check_with_a_wrong_password_names_the_fix(mail: MailServers) -> None:
    channel = create(
        mail.settings, EmailSecrets(password="wrong"), ssl_context=mail.client_ssl_context
    )
    with pytest.raises(ChannelError) as raised:
        await channel.check()
    assert raised.value.permanent
    assert str(raised.value) == (
        "the IMAP server refused the login for angie@example.com: check the password "
        "(an app password where the provider asks for one)"
    )


async def test_check_of_an_unreachable_server_is_temporary_and_says_where(
    mail: MailServers,
) -> None:
    await mail.stop_imap()
    channel = create(mail.settings, mail.secrets, ssl_context=mail.client_ssl_context)
    with pytest.raises(ChannelError) as raised:
        await channel.check()
    assert not raised.value.permanent
    assert f"127.0.0.1:{mail.imap_port}" in str(raised.value)


async def test_an_unreachable_smtp_server_is_temporary_and_says_where(mail: MailServers) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = mail.settings.model_copy(update={"smtp_port": port})
    channel = create(settings, mail.secrets, ssl_context=mail.client_ssl_context)
    with pytest.raises(ChannelError) as raised:
        await channel.check()
    assert not raised.value.permanent
    assert f"SMTP server 127.0.0.1:{port}" in str(raised.value)


async def test_a_certificate_angie_does_not_trust_is_refused(mail: MailServers) -> None:
    channel = create(mail.settings, mail.secrets)  # the system's CAs: the test CA is not one
    with pytest.raises(ChannelError) as raised:
        await channel.check()
    assert raised.value.permanent
    assert "certificate" in str(raised.value)


async def test_repeated_login_refusals_fail_the_channel_with_the_reason(
    mail: MailServers, hub: RecordingHub
) -> None:
    channel = create(
        mail.settings, EmailSecrets(password="wrong"), ssl_context=mail.client_ssl_context
    )
    await channel.start(hub)
    try:
        await hub.wait(lambda h: h.state is State.FAILED, within=30)
    finally:
        await channel.stop()
    assert "refused the login" in (hub.reports[-1][1] or "")


async def test_a_temporary_smtp_refusal_is_not_permanent(
    mail: MailServers, channel: EmailChannel
) -> None:
    mail.fail_smtp(451, "4.3.0 Mailbox busy, try again later")
    with pytest.raises(ChannelError) as raised:
        await channel.send(Outbound(thread="to:sam@example.com", text="Hello"))
    assert not raised.value.permanent
    assert "451" in str(raised.value)
    await channel.send(Outbound(thread="to:sam@example.com", text="Hello"))
    assert len(await mail.wait_sent(1)) == 1


async def test_a_refused_smtp_login_is_permanent(mail: MailServers) -> None:
    channel = create(
        mail.settings, EmailSecrets(password="wrong"), ssl_context=mail.client_ssl_context
    )
    with pytest.raises(ChannelError) as raised:
        await channel.send(Outbound(thread="to:sam@example.com", text="Hello"))
    assert raised.value.permanent
    assert "SMTP server refused the login" in str(raised.value)
    assert mail.sent == []


async def test_after_a_restart_angie_recalls_whom_to_answer_from_the_inbox(
    mail: MailServers, hub: RecordingHub, channel: EmailChannel
) -> None:
    root = await mail.deliver(SAM, mail.address, "Hall lamp", "Is the lamp on?")
    answer = await channel.send(Outbound(thread="to:lee@example.com", text="unrelated"))
    follow_up = await mail.deliver(
        SAM,
        mail.address,
        "Re: Hall lamp",
        "And the porch?",
        "<gone@example.com>",
        references=f"{root} <gone@example.com>",
    )
    await hub.wait(lambda h: len(h.messages) == 2)
    restarted = create(mail.settings, mail.secrets, ssl_context=mail.client_ssl_context)

    await restarted.send(Outbound(thread=root, text="Both are off."))

    _, out = await mail.wait_sent(2)
    assert answer.thread != root
    assert out.rcpt_tos == ("sam@example.com",)
    assert out.message["Subject"] == "Re: Hall lamp"
    assert out.message["In-Reply-To"] == follow_up
    assert out.message["References"] == f"{root} <gone@example.com> {follow_up}"


async def test_a_thread_angie_never_heard_of_is_a_clear_error(channel: EmailChannel) -> None:
    with pytest.raises(ChannelError) as raised:
        await channel.send(Outbound(thread="<unknown@example.com>", text="Hello"))
    assert raised.value.permanent
