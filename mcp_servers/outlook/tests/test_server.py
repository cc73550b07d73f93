"""The Outlook MCP server through the MCP client, its O365 calls answered by the local fake."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_outlook.account import token_file
from angie_mcp_outlook.server import build
from angie_mcp_outlook.settings import OutlookSettings
from angie_mcp_outlook.testing import READ, READ_WRITE, FakeOutlook
from fastmcp import Client
from fastmcp.exceptions import ToolError

from angie_mcp_core.fakes import Reply

from .conftest import MakeSettings, SignIn

READS = {"status", "search_messages", "read_message", "read_thread", "list_folders"}
WRITES = {
    "create_draft",
    "send_draft",
    "send_message",
    "reply",
    "move_messages",
    "archive_messages",
    "trash_messages",
    "label_messages",
    "flag_messages",
    "mark_read",
    "save_attachment",
}


def mail(
    subject: str,
    sender: str = "Alex <alex@example.com>",
    body: str = "Hello there",
    *,
    date: str = "Tue, 01 Dec 2026 10:00:00 +0000",
    attachment: bytes | None = None,
    message_id: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "me@example.com, Sam <sam@example.com>"
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = message_id or f"<{abs(hash(subject))}@example.com>"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="../../invoice.pdf"
        )
    return message.as_bytes()


async def call(settings: OutlookSettings, tool: str, **arguments: Any) -> Any:
    async with Client(build(settings)) as client:
        result = await client.call_tool(tool, arguments)
    return result.structured_content


async def tool_error(settings: OutlookSettings, tool: str, **arguments: Any) -> str:
    with pytest.raises(ToolError) as caught:
        await call(settings, tool, **arguments)
    return str(caught.value)


async def names(settings: OutlookSettings) -> set[str]:
    async with Client(build(settings)) as client:
        return {t.name for t in await client.list_tools()}


async def test_write_tools_exist_only_when_writes_are_on(
    reader: OutlookSettings, writer: OutlookSettings
) -> None:
    assert await names(reader) == READS
    assert await names(writer) == READS | WRITES


async def test_status_names_the_account_and_permissions(reader: OutlookSettings) -> None:
    status = await call(reader, "status")
    assert status["upstream_reachable"] is True
    assert "me@example.com" in status["upstream"]
    assert "Mail.Read" in status["upstream"]


async def test_search_with_words_goes_to_search_and_checks_read_state(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    fake.add_message(mail("Lunch plans", date="Wed, 02 Dec 2026 10:00:00 +0000"))
    fake.add_message(mail("Lunch plans", date="Wed, 02 Dec 2026 11:00:00 +0000"), read=True)
    fake.add_message(mail("Invoice", "billing@shop.example", attachment=b"%PDF-1"))
    fake.add_message(mail("Lunch later", "sam@example.com"))
    found = await call(
        reader,
        "search_messages",
        query='from:alex subject:"lunch plans" is:unread after:2026-12-01',
    )
    assert found["provider_query"].startswith('$search="from:alex AND subject:\\"lunch plans\\"')
    assert [m["subject"] for m in found["messages"]] == ["Lunch plans"]
    summary = found["messages"][0]
    assert summary["unread"] is True
    assert summary["sender"]["email"] == "alex@example.com"
    assert summary["folders"] == ["inbox"]
    attached = await call(reader, "search_messages", query="has:attachment", folder="inbox")
    assert attached["provider_query"].startswith("$filter=receivedDateTime ge")
    assert [m["subject"] for m in attached["messages"]] == ["Invoice"]
    assert attached["messages"][0]["has_attachments"] is True


async def test_flags_and_dates_go_to_filter(fake: FakeOutlook, reader: OutlookSettings) -> None:
    fake.add_message(mail("Old", date="01 Nov 2026 09:00:00 +0000"), flagged=True)
    fake.add_message(mail("New", date="03 Dec 2026 09:00:00 +0000"), flagged=True)
    fake.add_message(mail("Plain", date="03 Dec 2026 10:00:00 +0000"))
    found = await call(reader, "search_messages", query="is:flagged newer_than:1y after:2026-12-01")
    assert [m["subject"] for m in found["messages"]] == ["New"]
    assert found["messages"][0]["flagged"] is True


async def test_search_pages_through_next_link(fake: FakeOutlook, reader: OutlookSettings) -> None:
    for day in range(1, 8):
        fake.add_message(mail(f"Note {day}", date=f"0{day} Dec 2026 09:00:00 +0000"))
    seen: list[str] = []
    page: str | None = None
    while True:
        args: dict[str, Any] = {"limit": 3} | ({"page": page} if page else {})
        result = await call(reader, "search_messages", **args)
        seen += [m["subject"] for m in result["messages"]]
        page = result["next_page"]
        if page is None:
            break
    assert seen == [f"Note {day}" for day in range(7, 0, -1)]


async def test_a_page_that_is_not_graphs_is_refused(reader: OutlookSettings) -> None:
    error = await tool_error(reader, "search_messages", page="https://evil.example/steal")
    assert "next_page" in error


async def test_unknown_folder_names_close_matches(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    fake.add_folder("Receipts")
    error = await tool_error(reader, "search_messages", folder="Reciepts")
    assert "Receipts" in error


async def test_read_a_huge_message_in_an_odd_charset_truncated(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    raw = (
        b"From: =?iso-8859-1?q?Ren=E9?= <rene@example.fr>\r\nTo: me@example.com\r\n"
        b"Subject: =?iso-8859-1?q?Caf=E9?=\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ) + ("Déjà vu " * 10_000).encode("iso-8859-1")
    message_id = fake.add_message(raw)
    message = await call(reader, "read_message", message_id=message_id)
    assert message["subject"] == "Café"
    assert message["sender"]["name"] == "René"
    assert message["text"].startswith("Déjà vu")
    assert message["truncated"] is True
    assert len(message["text"]) < 80_000


async def test_read_an_unknown_charset_and_html_only(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    raw = (
        b"From: x@example.com\r\nTo: me@example.com\r\nSubject: =?x-unknown?q?Odd?=\r\n"
        b"Content-Type: text/html; charset=x-unknown\r\n\r\n"
        b"<p>Hi&nbsp;there</p><script>x()</script>"
    )
    message = await call(reader, "read_message", message_id=fake.add_message(raw))
    assert message["text"] == "Hi there"
    assert "Odd" in message["subject"]


async def test_read_thread_oldest_first(fake: FakeOutlook, reader: OutlookSettings) -> None:
    first = fake.add_message(mail("Trip", date="01 Dec 2026 09:00:00 +0000"))
    conversation = fake.messages[first]["conversationId"]
    fake.add_message(
        mail("Re: Trip", "sam@example.com", date="02 Dec 2026 09:00:00 +0000"),
        conversation=conversation,
    )
    thread = await call(reader, "read_thread", thread_id=conversation)
    assert [m["subject"] for m in thread["messages"]] == ["Trip", "Re: Trip"]
    error = await tool_error(reader, "read_thread", thread_id="AAQk-none")
    assert "No thread" in error


async def test_unknown_message_is_a_clear_error(reader: OutlookSettings) -> None:
    error = await tool_error(reader, "read_message", message_id="nope")
    assert "no such message" in error


async def test_list_folders_gives_kinds(fake: FakeOutlook, reader: OutlookSettings) -> None:
    fake.add_folder("Receipts")
    folders = {f["name"]: f["kind"] for f in (await call(reader, "list_folders"))["result"]}
    assert folders["Inbox"] == "inbox"
    assert folders["Deleted Items"] == "trash"
    assert folders["Junk Email"] == "spam"
    assert folders["Receipts"] == "other"


async def test_writes_with_a_read_only_sign_in_are_refused(
    fake: FakeOutlook, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings(writes=True)
    sign_in(settings)
    message_id = fake.add_message(mail("Keep"))
    error = await tool_error(settings, "trash_messages", ids=[message_id])
    assert "read only" in error
    assert "ANGIE_OUTLOOK_WRITES=true" in error
    assert fake.messages[message_id]["folder"] == "AQMk-inbox"


async def test_graph_refuses_sending_without_mail_send(
    fake: FakeOutlook, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    """Mail.ReadWrite alone moves mail; Graph's own 403 on sendMail is the same clear error."""
    settings = make_settings(writes=True)
    sign_in(settings, [READ, READ_WRITE])
    error = await tool_error(
        settings, "send_message", to=["pat@example.com"], subject="Hi", body="x"
    )
    assert "read only" in error
    assert not [m for m in fake.messages.values() if m["folder"] == "AQMk-sentitems"]


async def test_trash_archive_move_label_flag_and_mark_read(
    fake: FakeOutlook, writer: OutlookSettings
) -> None:
    receipts = fake.add_folder("Receipts")
    one, two = fake.add_message(mail("One")), fake.add_message(mail("Two"))
    trashed = await call(writer, "trash_messages", ids=[one])
    new_one = trashed["new_ids"][one]
    assert fake.messages[new_one]["folder"] == "AQMk-deleteditems"
    archived = await call(writer, "archive_messages", ids=[two])
    two = archived["new_ids"][two]
    assert fake.messages[two]["folder"] == "AQMk-archive"
    moved = await call(writer, "move_messages", ids=[two], folder="receipts")
    two = moved["new_ids"][two]
    assert fake.messages[two]["folder"] == receipts
    await call(writer, "label_messages", ids=[two], add=["Bills", "Red"])
    await call(writer, "label_messages", ids=[two], remove=["red"])
    assert fake.messages[two]["categories"] == ["Bills"]
    await call(writer, "flag_messages", ids=[two], flagged=True)
    await call(writer, "mark_read", ids=[two], read=True)
    assert fake.messages[two]["flag"] == "flagged"
    assert fake.messages[two]["isRead"] is True
    error = await tool_error(writer, "move_messages", ids=[two], folder="drafts")
    assert "cannot move" in error
    missing = await tool_error(writer, "flag_messages", ids=["gone"], flagged=True)
    assert "no such message" in missing


async def test_send_and_reply_threaded(fake: FakeOutlook, writer: OutlookSettings) -> None:
    original = fake.add_message(mail("Dinner?", message_id="<dinner@example.com>"))
    conversation = fake.messages[original]["conversationId"]
    sent = await call(writer, "reply", message_id=original, body="Yes!", reply_all=True)
    assert sent["thread_id"] == conversation
    assert sent["subject"] == "Re: Dinner?"
    (reply,) = [m for m in fake.messages.values() if m["folder"] == "AQMk-sentitems"]
    raw = reply["raw"].decode()
    assert "In-Reply-To: <dinner@example.com>" in raw
    assert "sam@example.com" in raw
    assert raw.index("Yes!") < raw.index("> Hello there")
    assert reply["conversationId"] == conversation
    await call(writer, "send_message", to=["pat@example.com"], subject="Hi", body="Hey")
    sent_mail = [m for m in fake.messages.values() if m["folder"] == "AQMk-sentitems"]
    assert len(sent_mail) == 2
    assert any("pat@example.com" in m["raw"].decode() for m in sent_mail)


async def test_draft_then_send_it(fake: FakeOutlook, writer: OutlookSettings) -> None:
    draft = await call(writer, "create_draft", to=["pat@example.com"], subject="Plan", body="B")
    assert fake.messages[draft["id"]]["folder"] == "AQMk-drafts"
    assert fake.messages[draft["id"]]["isDraft"] is True
    sent = await call(writer, "send_draft", draft_id=draft["id"])
    assert sent["subject"] == "Plan"
    assert sent["to"][0]["email"] == "pat@example.com"
    assert fake.messages[draft["id"]]["folder"] == "AQMk-sentitems"
    again = await tool_error(writer, "send_draft", draft_id=draft["id"])
    assert "not a draft" in again
    unknown = await tool_error(writer, "send_draft", draft_id="nope")
    assert "no such" in unknown


async def test_save_attachment_stays_in_the_download_folder(
    fake: FakeOutlook, writer: OutlookSettings, tmp_path: Path
) -> None:
    message_id = fake.add_message(mail("Invoice", attachment=b"%PDF-1.7 data"))
    message = await call(writer, "read_message", message_id=message_id)
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "../../invoice.pdf"  # as the sender named it
    saved = await call(
        writer, "save_attachment", message_id=message_id, attachment_id=attachment["id"]
    )
    path = Path(saved["path"])
    assert saved["filename"] == "invoice.pdf"
    assert path.parent == tmp_path / "downloads"
    assert path.read_bytes() == b"%PDF-1.7 data"  # noqa: ASYNC240 - a test reading its result
    small = writer.model_copy(update={"max_download_bytes": 4})
    error = await tool_error(
        small, "save_attachment", message_id=message_id, attachment_id=attachment["id"]
    )
    assert "download limit" in error
    missing = await tool_error(writer, "save_attachment", message_id=message_id, attachment_id="5")
    assert "no such" in missing


async def test_expired_access_token_is_refreshed_and_saved(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    before = token_file(reader).load()
    fake.expire_access_tokens()
    fake.add_message(mail("After refresh"))
    found = await call(reader, "search_messages")
    assert [m["subject"] for m in found["messages"]] == ["After refresh"]
    after = token_file(reader).load()
    assert after is not None
    assert before is not None
    assert after["access_token"] != before["access_token"]


async def test_a_token_past_its_expiry_is_refreshed_before_the_call(
    fake: FakeOutlook, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings()
    sign_in(settings, expires_at="2000-01-01T00:00:00+00:00")
    await call(settings, "list_folders")
    grants = [r for r in fake.log if r.path.endswith("/oauth2/v2.0/token")]
    assert len(grants) == 1
    assert fake.log.index(grants[0]) == 0  # before any Graph call, not after a 401


async def test_revoked_sign_in_says_reconnect_outlook(
    fake: FakeOutlook, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings()
    tokens = sign_in(settings)
    fake.revoke()
    error = await tool_error(settings, "search_messages")
    assert "Reconnect outlook" in error
    assert "angie-mcp-outlook auth" in error
    assert tokens["refresh_token"] not in error


async def test_a_short_429_is_waited_out(fake: FakeOutlook, reader: OutlookSettings) -> None:
    fake.add_message(mail("Patience"))
    busy = Reply.json(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "0.1"})
    fake.inject(busy, path="/v1.0/me/mailFolders/inbox/messages")
    found = await call(reader, "search_messages")
    assert [m["subject"] for m in found["messages"]] == ["Patience"]


async def test_a_long_429_passes_retry_after_and_5xx_is_an_upstream_error(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    busy = Reply.json(
        429, {"error": {"code": "TooManyRequests", "message": "Slow"}}, {"Retry-After": "37"}
    )
    fake.inject(busy, path="/v1.0/me/mailFolders/inbox/messages")
    error = await tool_error(reader, "search_messages")
    assert "rate limiting" in error
    assert "37" in error
    fake.inject(Reply.json(500, {"error": {"code": "InternalServerError"}}), times=2)
    error = await tool_error(reader, "search_messages")
    assert "HTTP 500" in error


async def test_without_a_client_id_tools_name_the_setting(make_settings: MakeSettings) -> None:
    error = await tool_error(make_settings(client_id=None), "search_messages")
    assert "ANGIE_OUTLOOK_CLIENT_ID" in error


async def test_not_signed_in_says_how_to_connect(make_settings: MakeSettings) -> None:
    error = await tool_error(make_settings(), "search_messages")
    assert "angie-mcp-outlook auth" in error


async def test_an_unknown_app_registration_at_refresh_names_the_settings(
    fake: FakeOutlook, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings(client_id="someone-else")
    sign_in(settings, expires_at="2000-01-01T00:00:00+00:00")
    error = await tool_error(settings, "list_folders")
    assert "ANGIE_OUTLOOK_CLIENT_ID" in error
    assert "app registration" in error


async def test_a_token_file_under_another_key_says_reconnect(
    make_settings: MakeSettings, sign_in: SignIn
) -> None:
    sign_in(make_settings(token_key="another-token-key-0123456789abcdef"))
    error = await tool_error(make_settings(), "search_messages")
    assert "cannot be decrypted" in error
    assert "Reconnect outlook" in error


async def test_a_401_that_survives_a_refresh_says_reconnect(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    denied = Reply.json(401, {"error": {"code": "InvalidAuthenticationToken"}})
    fake.inject(denied, times=2, path="/v1.0/me/mailFolders")
    error = await tool_error(reader, "search_messages")
    assert "Reconnect outlook" in error
    assert sum(r.path.endswith("/oauth2/v2.0/token") for r in fake.log) == 1


async def test_a_slow_graph_times_out_with_the_limit(
    fake: FakeOutlook, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings(timeout=0.3)
    sign_in(settings)
    fake.delay = 5
    error = await tool_error(settings, "search_messages")
    assert "did not answer within 0.3 seconds" in error


async def test_an_unreachable_graph_is_a_network_error(
    make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings(graph_url="http://127.0.0.1:9/")
    sign_in(settings)
    error = await tool_error(settings, "list_folders")
    assert "could not connect" in error


async def test_replying_to_an_unknown_message_sends_nothing(
    fake: FakeOutlook, writer: OutlookSettings
) -> None:
    error = await tool_error(writer, "reply", message_id="gone", body="Hi")
    assert "no such message" in error
    assert not [r for r in fake.log if r.path.endswith(("/send", "/sendMail", "/createReply"))]


async def test_a_made_up_id_cannot_reach_another_endpoint(
    fake: FakeOutlook, writer: OutlookSettings
) -> None:
    for made_up in ("../sendMail", "x/../../sendMail", "a?b=c#d"):
        error = await tool_error(writer, "mark_read", ids=[made_up])
        assert "no such message" in error
    assert not [r for r in fake.log if "sendMail" in r.path and r.method == "POST"]


async def test_a_draft_reply_is_made_by_graph_in_the_conversation(
    fake: FakeOutlook, writer: OutlookSettings
) -> None:
    original = fake.add_message(mail("Budget", message_id="<budget@example.com>"))
    draft = await call(
        writer,
        "create_draft",
        to=["alex@example.com"],
        subject="Re: Budget",
        body="Looks fine.",
        reply_to_message_id=original,
    )
    assert draft["thread_id"] == fake.messages[original]["conversationId"]
    stored = fake.messages[draft["id"]]
    assert stored["isDraft"] is True
    assert "In-Reply-To: <budget@example.com>" in stored["raw"].decode()
    assert [r.path.rsplit("/", 1)[-1] for r in fake.log if r.method == "POST"] == ["createReply"]


async def test_debug_logging_shows_no_token(
    fake: FakeOutlook, reader: OutlookSettings, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_message(mail("Quiet"))
    fake.expire_access_tokens()
    with caplog.at_level("DEBUG"):
        await call(reader, "search_messages")
    stored = token_file(reader).load()
    assert stored is not None
    assert stored["access_token"] not in caplog.text
    assert stored["refresh_token"] not in caplog.text


async def test_the_refresh_asks_for_offline_access_and_keeps_the_rotated_token(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    before = token_file(reader).load()
    assert before is not None
    fake.expire_access_tokens()
    await call(reader, "list_folders")
    (grant,) = [r for r in fake.log if r.path.endswith("/oauth2/v2.0/token")]
    assert "offline_access" in grant.body.decode()
    after = token_file(reader).load()
    assert after is not None
    assert after["refresh_token"] != before["refresh_token"]


async def test_an_attached_outlook_item_is_not_a_file_to_save(
    fake: FakeOutlook, writer: OutlookSettings
) -> None:
    message_id = fake.add_message(mail("Forwarded"))
    item = fake.add_item_attachment(message_id, "Original message")
    message = await call(writer, "read_message", message_id=message_id)
    assert [a["id"] for a in message["attachments"]] == [item]
    assert message["has_attachments"] is True
    error = await tool_error(writer, "save_attachment", message_id=message_id, attachment_id=item)
    assert "not a file to save" in error


async def test_graph_page_cap_below_the_limit_still_pages_through(
    fake: FakeOutlook, reader: OutlookSettings
) -> None:
    fake.page_cap = 2
    for day in range(1, 6):
        fake.add_message(mail(f"Note {day}", date=f"0{day} Dec 2026 09:00:00 +0000"))
    first = await call(reader, "search_messages", limit=5)
    assert len(first["messages"]) == 2
    rest = await call(reader, "search_messages", limit=5, page=first["next_page"])
    assert [m["subject"] for m in rest["messages"]] == ["Note 3", "Note 2"]
