"""The shared mail surface: the search syntax, reading raw mail, replies, downloads."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from angie_mcp_core.errors import InvalidArgumentError
from angie_mcp_core.mail import (
    MailQuery,
    OutgoingMail,
    compose,
    html_to_text,
    parse_query,
    read_rfc822,
    reply_subject,
    reply_to,
    save_download,
)


def test_the_search_syntax_parses_every_key_and_free_words() -> None:
    query = parse_query(
        'from:alex to:sam subject:"lunch plans" is:unread is:flagged has:attachment '
        "after:2026-12-01 before:2026/12/04 garden shed"
    )
    assert query == MailQuery(
        sender=["alex"],
        to=["sam"],
        subject=["lunch plans"],
        words=["garden", "shed"],
        unread=True,
        flagged=True,
        has_attachment=True,
        after=date(2026, 12, 1),
        before=date(2026, 12, 4),
    )
    assert parse_query("").empty
    assert parse_query("is:read").unread is False
    assert parse_query("newer_than:2w", today=date(2026, 12, 4)).after == date(2026, 11, 20)
    # An unknown key is a word (e.g. a URL or a time), not an error.
    assert parse_query("https://example.com").words == ["https://example.com"]
    assert parse_query("meeting at 10:30").words == ["meeting", "at", "10:30"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('subject:"lunch', "unclosed quote"),
        ("from:", "needs a value"),
        ("is:urgent", "is:unread"),
        ("has:pdf", "has:attachment"),
        ("after:yesterday", "after:2026-12-01"),
        ("newer_than:soon", "newer_than:7d"),
        ("after:2026-12-05 before:2026-12-01", "nothing can match"),
        # Other mail apps' operators are refused with what to do, not searched as words.
        ("in:inbox", "the folder argument"),
        ("label:work lunch", "the folder argument"),
        ("older_than:7d", "newer_than:"),
    ],
)
def test_bad_searches_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError, match=says):
        parse_query(text)


def _raw(body: str, *, subtype: str = "plain", charset: str = "utf-8") -> bytes:
    message = EmailMessage()
    message["From"] = "Alex Doe <alex@example.com>"
    message["To"] = "me@example.com, Sam <sam@example.com>"
    message["Subject"] = "Ça va? Thursday"
    message["Date"] = "Thu, 03 Dec 2026 09:30:00 +0100"
    message["Message-ID"] = "<m1@example.com>"
    message["Authentication-Results"] = "mx.example.com; dkim=pass"
    message["X-Unrelated"] = "dropped"
    message.set_content(body, subtype=subtype, charset=charset)
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    return message.as_bytes()


def test_a_raw_mail_becomes_a_message_with_its_text_and_attachments() -> None:
    message = read_rfc822(
        _raw("Héllo,\nsee you Thursday."),
        id="m1",
        thread_id="t1",
        folders=["INBOX"],
        unread=True,
        flagged=False,
    )
    assert message.sender is not None
    assert (message.sender.email, message.sender.name) == ("alex@example.com", "Alex Doe")
    assert [a.email for a in message.to] == ["me@example.com", "sam@example.com"]
    assert message.subject == "Ça va? Thursday"
    assert message.date is not None
    assert message.date.utcoffset() is not None
    assert message.text == "Héllo,\nsee you Thursday."
    assert message.headers == {"authentication-results": "mx.example.com; dkim=pass"}
    assert [(a.filename, a.content_type, a.size) for a in message.attachments] == [
        ("a.pdf", "application/pdf", 8)
    ]
    assert message.has_attachments
    assert not message.truncated


def test_html_bodies_become_text_and_huge_ones_are_cut() -> None:
    markup = "<html><style>p{}</style><p>Hi&nbsp;<b>you</b></p><script>x()</script><p>Bye</p>"
    assert html_to_text(markup) == "Hi you\n\nBye"
    message = read_rfc822(
        _raw("<p>" + "word " * 10_000 + "</p>", subtype="html"),
        id="m",
        thread_id=None,
        folders=[],
        unread=False,
        flagged=False,
        max_chars=1000,
    )
    assert len(message.text) == 1000
    assert message.truncated


def test_odd_encodings_and_broken_headers_do_not_fail_the_read() -> None:
    raw = (
        b"From: =?x-unknown?q?Bad?= <bad@example.com>\r\n"
        b"Subject: =?iso-8859-1?q?caf=E9?=\r\n"
        b"Date: not a date\r\n"
        b"Content-Type: text/plain; charset=klingon\r\n\r\n"
        b"caf\xe9 au lait\r\n"
    )
    message = read_rfc822(raw, id="x", thread_id=None, folders=[], unread=True, flagged=False)
    assert message.subject == "café"
    assert message.date is None
    assert "au lait" in message.text


def test_a_reply_is_threaded_and_reply_all_leaves_me_out() -> None:
    original = read_rfc822(
        _raw("Thursday?"), id="m1", thread_id="t1", folders=[], unread=False, flagged=False
    )
    mail = reply_to(original, "Thursday works.", me="ME@example.com", reply_all=True)
    assert mail.to == ["alex@example.com"]
    assert mail.cc == ["sam@example.com"]
    assert mail.subject == "Re: Ça va? Thursday"
    assert mail.in_reply_to == "<m1@example.com>"
    built = compose(mail, "me@example.com")
    assert built["In-Reply-To"] == "<m1@example.com>"
    assert built["References"] == "<m1@example.com>"
    assert built["Message-ID"].endswith("@example.com>")
    assert reply_subject("RE: x") == "RE: x"


def test_compose_a_new_mail() -> None:
    built = compose(OutgoingMail(to=["a@example.com"], subject="Hi", body="Hello"), "me@x.org")
    assert built["To"] == "a@example.com"
    assert "In-Reply-To" not in built
    assert built["Date"] is not None
    assert built.get_content().strip() == "Hello"


def test_downloads_stay_in_their_folder_with_unique_safe_names(tmp_path: Path) -> None:
    first = save_download(tmp_path, "../../etc/passwd", b"x", max_bytes=10)
    second = save_download(tmp_path, "../../etc/passwd", b"y", max_bytes=10)
    assert first.parent == tmp_path
    assert (first.name, second.name) == ("passwd", "passwd-2")
    assert save_download(tmp_path, "...", b"z", max_bytes=10).name == "attachment"
    with pytest.raises(InvalidArgumentError, match="download limit"):
        save_download(tmp_path, "big.bin", b"x" * 11, max_bytes=10)
