"""The email channel's decisions that need no server: when TLS is used, how a mail is read
(HTML, quoted history, thread roots, robots), approval replies, and what a reply references."""

from __future__ import annotations

import ssl

import pytest

from angie_channels.base import ChannelError
from angie_channels.email.adapter import create
from angie_channels.email.messages import approval_reply, compose, read_mail
from angie_channels.email.security import (
    IMAP_TLS_PORT,
    SMTP_TLS_PORT,
    Endpoint,
    implicit_tls,
    upgrade,
)
from angie_channels.email.settings import EmailSecrets, EmailSettings


def endpoint(host: str, port: int = 143) -> Endpoint:
    context = ssl.create_default_context()
    return Endpoint("IMAP", host, port, "angie@example.com", "pw", context, IMAP_TLS_PORT)


def test_the_well_known_tls_ports_use_implicit_tls() -> None:
    assert implicit_tls(993, IMAP_TLS_PORT)
    assert implicit_tls(465, SMTP_TLS_PORT)
    assert not implicit_tls(143, IMAP_TLS_PORT)
    assert not implicit_tls(587, SMTP_TLS_PORT)


@pytest.mark.parametrize("host", ["imap.example.com", "127.0.0.1", "localhost"])
def test_starttls_is_used_whenever_the_server_offers_it(host: str) -> None:
    assert upgrade(endpoint(host), starttls_offered=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_server_without_tls_is_used_in_clear_only_on_loopback(host: str) -> None:
    assert not upgrade(endpoint(host), starttls_offered=False)


@pytest.mark.parametrize("host", ["imap.example.com", "192.168.1.10", "localhost.example.com"])
def test_a_password_is_never_sent_in_clear_over_a_network(host: str) -> None:
    with pytest.raises(ChannelError) as raised:
        upgrade(endpoint(host), starttls_offered=False)
    assert raised.value.permanent
    assert "offers no TLS" in str(raised.value)


def raw_mail(body: str, **headers: str) -> bytes:
    lines = [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def test_an_html_only_mail_is_read_as_text_without_tags_or_quoted_history() -> None:
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Dim the <b>lights</b> to 30&nbsp;%,</p><div>please.</div>"
        "<blockquote>Earlier: the lights are at 80 %</blockquote></body></html>"
    )
    mail = read_mail(
        raw_mail(
            html,
            From="sam@example.com",
            Subject="Lights",
            Message_ID="<1@example.com>",
            Content_Type="text/html; charset=utf-8",
        )
    )
    assert mail.text == "Lights\n\nDim the lights to 30 %,\n\nplease."


@pytest.mark.parametrize(
    "body",
    [
        "Sounds good.\n\nOn Tue, 1 Dec 2026, 10:00 Angie <angie@example.com> wrote:\n> Shall I?",
        "Sounds good.\n\nOn Tue, 1 Dec 2026 at 10:00, Angie <\nangie@example.com> wrote:\n> x",
        "Sounds good.\n\n-----Original Message-----\nFrom: Angie\nShall I?",
        "Sounds good.\n> Shall I?\n",
        "Sounds good.\n\n-- \nSam Lee\nSent from my phone",
    ],
)
def test_quoted_history_and_signatures_are_cut(body: str) -> None:
    mail = read_mail(raw_mail(body, From="sam@example.com", In_Reply_To="<a@example.com>"))
    assert mail.text == "Sounds good."


def test_the_thread_is_the_first_reference_then_in_reply_to_then_the_mail_itself() -> None:
    both = read_mail(
        raw_mail(
            "x",
            From="s@example.com",
            Message_ID="<3@x>",
            In_Reply_To="<2@x>",
            References="<1@x> <2@x>",
        )
    )
    reply = read_mail(raw_mail("x", From="s@example.com", Message_ID="<3@x>", In_Reply_To="<2@x>"))
    new = read_mail(raw_mail("x", From="s@example.com", Message_ID="<3@x>"))
    assert (both.thread, reply.thread, new.thread) == ("<1@x>", "<2@x>", "<3@x>")
    assert both.references == ("<1@x>", "<2@x>", "<3@x>")


def test_a_mail_without_message_id_gets_a_stable_one() -> None:
    raw = raw_mail("Hello", From="sam@example.com")
    assert read_mail(raw).message_id == read_mail(raw).message_id
    assert read_mail(raw).message_id.endswith("@angie.invalid>")


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({"Auto_Submitted": "auto-replied"}, True),
        ({"Auto_Submitted": "no"}, False),
        ({"Precedence": "list"}, True),
        ({"Precedence": "junk"}, True),
        ({"Return_Path": "<>"}, True),
        ({"X_Autoreply": "yes"}, True),
        ({}, False),
    ],
)
def test_robots_are_recognised(headers: dict[str, str], automatic: bool) -> None:
    assert read_mail(raw_mail("x", From="sam@example.com", **headers)).automatic is automatic
    assert read_mail(raw_mail("x", From="Mailer-Daemon@mx.example.com")).automatic


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("yes 4821", (True, "4821")),
        ("\n\n  Approve 12345678 thanks", (True, "12345678")),
        ("Y 4821", (True, "4821")),
        ("no 4821", (False, "4821")),
        ("DENY 4821\n> yes 1111", (False, "4821")),
        ("n 4821", (False, "4821")),
        ("yes", None),
        ("yes 482", None),
        ("yes 48211111111", None),
        ("I said yes 4821", None),
        ("Hello\nyes 4821", None),
    ],
)
def test_approval_replies(body: str, answer: tuple[bool, str] | None) -> None:
    assert approval_reply(body) == answer


def test_replies_reference_the_root_and_the_latest_mails_only() -> None:
    chain = [f"<{n}@x>" for n in range(30)]
    message = compose(
        sender="angie@example.com", to="s@x", subject="Re: a", references=chain, text="t"
    )
    references = str(message["References"]).split()
    assert references[0] == "<0@x>"
    assert references[-1] == message["In-Reply-To"] == "<29@x>"
    assert len(references) == 10


def test_create_names_the_settings_it_misses() -> None:
    with pytest.raises(ChannelError) as raised:
        create(EmailSettings(address="angie@example.com"), EmailSecrets())
    assert str(raised.value) == "the email channel needs imap_host, smtp_host, password"
    assert raised.value.permanent
