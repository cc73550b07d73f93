"""The Gmail client and its query translation, straight against the fake (no MCP layer)."""

from __future__ import annotations

from datetime import date

import httplib2
import pytest
from angie_mcp_gmail.client import GmailClient
from angie_mcp_gmail.query import folder_kind, gmail_query
from angie_mcp_gmail.settings import GmailSettings
from angie_mcp_gmail.testing import FakeGmail
from googleapiclient import discovery

from angie_mcp_core.discovery import keep_resources
from angie_mcp_core.errors import InvalidArgumentError, NotFoundError
from angie_mcp_core.mail import MailQuery, parse_query

from .test_server import mail


def client(settings: GmailSettings) -> GmailClient:
    assert settings.api_url is not None
    assert settings.token_uri is not None
    return GmailClient(settings, api_url=settings.api_url, token_uri=settings.token_uri)


def test_the_query_in_gmail_operators() -> None:
    query = parse_query(
        'from:alex to:sam subject:"lunch plans" is:read is:flagged has:attachment '
        "after:2026-12-01 before:2026-12-04 budget",
        today=date(2026, 12, 4),
    )
    assert gmail_query(query) == (
        'from:alex to:sam subject:"lunch plans" is:read is:starred has:attachment '
        "after:2026/12/01 before:2026/12/04 budget"
    )
    assert gmail_query(MailQuery()) == ""
    assert gmail_query(MailQuery(flagged=False, unread=True)) == "is:unread -is:starred"
    # A quote in a value cannot break out of its term.
    assert gmail_query(MailQuery(subject=['say "hi" now'])) == 'subject:"say  hi  now"'


def test_system_labels_have_their_kinds() -> None:
    assert [folder_kind(x) for x in ("INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "Label_1")] == [
        "inbox",
        "sent",
        "drafts",
        "trash",
        "spam",
        "other",
    ]


def test_the_fake_applies_the_query(fake: FakeGmail, reader: GmailSettings) -> None:
    fake.add_message(mail("Old", date="01 Nov 2026 09:00:00 +0000"))
    fake.add_message(mail("New", "sam@example.com", date="03 Dec 2026 09:00:00 +0000"), ["INBOX"])
    with client(reader) as gmail:
        recent = gmail.search(parse_query("after:2026-12-01"), None, 10, None)
        assert [m.subject for m in recent.messages] == ["New"]
        read = gmail.search(parse_query("is:read from:sam"), "INBOX", 10, None)
        assert [m.subject for m in read.messages] == ["New"]
        assert gmail.search(parse_query("is:unread from:sam"), None, 10, None).messages == []


def test_trashed_and_spam_mail_is_left_out_unless_asked(
    fake: FakeGmail, reader: GmailSettings
) -> None:
    fake.add_message(mail("Binned"), ["TRASH"])
    fake.add_message(mail("Junk"), ["SPAM"])
    with client(reader) as gmail:
        assert gmail.search(MailQuery(), None, 10, None).messages == []
        assert [m.subject for m in gmail.search(MailQuery(), "trash", 10, None).messages] == [
            "Binned"
        ]
        assert [m.subject for m in gmail.search(MailQuery(), "Spam", 10, None).messages] == ["Junk"]


def test_moving_into_drafts_is_refused(fake: FakeGmail, writer: GmailSettings) -> None:
    message_id = fake.add_message(mail("x"))
    with client(writer) as gmail:
        with pytest.raises(InvalidArgumentError, match="cannot move"):
            gmail.move([message_id], "drafts")
        with pytest.raises(NotFoundError):
            gmail.move([message_id], "Nowhere")
        gmail.move([message_id], "trash")
    assert "TRASH" in fake.messages[message_id]["labelIds"]


def test_permanent_deletion_needs_the_full_scope_at_the_fake(
    fake: FakeGmail, writer: GmailSettings
) -> None:
    """Angie never deletes; the fake refuses it as Google does without mail.google.com."""
    message_id = fake.add_message(mail("x"))
    with client(writer) as gmail, pytest.raises(Exception, match="read only"):
        gmail._call(  # the raw SDK call Angie itself never makes
            lambda s: s.users().messages().delete(userId="me", id=message_id).execute()
        )
    assert message_id in fake.messages


def test_nested_resources_are_built_once_and_requests_stay_their_own() -> None:
    service = keep_resources(
        discovery.build(
            "gmail", "v1", http=httplib2.Http(), static_discovery=True, cache_discovery=False
        )
    )
    messages = service.users().messages()
    assert messages is service.users().messages()
    assert service.users().settings().filters() is service.users().settings().filters()
    first = messages.get(userId="me", id="a1", format="raw")
    second = messages.get(userId="me", id="b2", format="raw")
    assert "/messages/a1?" in first.uri
    assert "/messages/b2?" in second.uri
