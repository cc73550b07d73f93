"""The Yahoo client's own rules, without a server: message ids, the search as IMAP criteria,
threads and attachments found in a message's structure."""

from __future__ import annotations

from datetime import date

import pytest
from angie_mcp_yahoo.client import YahooMailbox, _has_attachment, _Id, _thread_of, _uid_set
from angie_mcp_yahoo.settings import YahooSettings

from angie_mcp_core.errors import InvalidArgumentError, NotConfiguredError
from angie_mcp_core.mail import parse_query


def test_a_message_id_names_its_folder_its_validity_and_its_uid() -> None:
    parsed = _Id.parse("Bulk Mail:1796:42")
    assert (parsed.folder, parsed.validity, parsed.uid) == ("Bulk Mail", 1796, 42)
    assert str(parsed) == "Bulk Mail:1796:42"
    # A folder name may hold colons itself.
    assert _Id.parse("Work:2026:Q4:7:9").folder == "Work:2026:Q4"


@pytest.mark.parametrize("bad", ["42", "INBOX:42", "INBOX:x:1", ":1:2", "INBOX:1:"])
def test_an_id_of_another_shape_is_refused(bad: str) -> None:
    with pytest.raises(InvalidArgumentError, match="not a message id of this server"):
        _Id.parse(bad)


def test_the_search_becomes_imap_criteria() -> None:
    query = parse_query(
        'from:alex to:sam subject:"lunch plans" is:unread is:flagged after:2026-12-01 '
        "before:2026-12-04 garden"
    )
    assert YahooMailbox._criteria(query) == [
        b"FROM", "alex", b"TO", "sam", b"SUBJECT", "lunch plans", b"TEXT", "garden",
        b"UNSEEN", b"FLAGGED", b"SINCE", date(2026, 12, 1), b"BEFORE", date(2026, 12, 4),
    ]  # fmt: skip
    assert YahooMailbox._criteria(parse_query("")) == [b"ALL"]
    assert YahooMailbox._criteria(parse_query("is:read")) == [b"SEEN"]


def test_a_thread_is_named_by_the_message_that_started_it() -> None:
    reply = b"Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\n\r\nbody"
    assert _thread_of(reply) == "<a@x>"
    assert _thread_of(b"Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\n\r\n") == "<a@x>"
    assert _thread_of(b"Message-ID: <a@x>\n\nbody") == "<a@x>"
    assert _thread_of(b"Subject: none\r\n\r\n") is None


def test_attachments_are_found_in_the_structure() -> None:
    plain = (b"text", b"plain", (b"charset", b"utf-8"), None, None, b"7bit", 12, 1)
    pdf = (b"application", b"pdf", None, None, None, b"base64", 100,
           None, (b"attachment", (b"filename", b"a.pdf")), None)  # fmt: skip
    assert _has_attachment(([plain, pdf], b"mixed"))
    assert not _has_attachment(([plain, plain], b"alternative"))
    assert not _has_attachment(None)


def test_copyuid_sets_expand() -> None:
    assert _uid_set(b"3:5,9") == [3, 4, 5, 9]


async def test_nothing_is_tried_without_the_address_and_password() -> None:
    mailbox = YahooMailbox(YahooSettings(_env_file=None))
    with pytest.raises(NotConfiguredError, match="ANGIE_YAHOO_ADDRESS, ANGIE_YAHOO_APP_PASSWORD"):
        await mailbox.me()
