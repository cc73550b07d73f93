"""The Gmail MCP server through the MCP client, its SDK calls answered by the local fake."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_gmail.server import build
from angie_mcp_gmail.settings import GmailSettings
from angie_mcp_gmail.testing import FakeGmail
from fastmcp import Client
from fastmcp.exceptions import ToolError

from angie_mcp_core.fakes import Reply
from angie_mcp_core.google.account import token_file

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


async def call(settings: GmailSettings, tool: str, **arguments: Any) -> Any:
    async with Client(build(settings)) as client:
        result = await client.call_tool(tool, arguments)
    return result.structured_content


async def tool_error(settings: GmailSettings, tool: str, **arguments: Any) -> str:
    with pytest.raises(ToolError) as caught:
        await call(settings, tool, **arguments)
    return str(caught.value)


async def names(settings: GmailSettings) -> set[str]:
    async with Client(build(settings)) as client:
        return {t.name for t in await client.list_tools()}


async def test_write_tools_exist_only_when_writes_are_on(
    reader: GmailSettings, writer: GmailSettings
) -> None:
    assert await names(reader) == READS
    assert await names(writer) == READS | WRITES


async def test_status_names_the_account_scopes_and_the_testing_expiry(
    reader: GmailSettings,
) -> None:
    status = await call(reader, "status")
    assert status["upstream_reachable"] is True
    assert "me@example.com" in status["upstream"]
    assert "gmail.readonly" in status["upstream"]
    assert "7-day limit" in status["upstream"]


async def test_search_translates_the_query_and_reads_the_results(
    fake: FakeGmail, reader: GmailSettings
) -> None:
    fake.add_message(mail("Lunch plans", date="Wed, 02 Dec 2026 10:00:00 +0000"))
    fake.add_message(mail("Invoice", "billing@shop.example", attachment=b"%PDF-1"), ["INBOX"])
    fake.add_message(mail("Lunch later", "sam@example.com"), ["INBOX"])
    found = await call(
        reader,
        "search_messages",
        query='from:alex subject:"lunch plans" is:unread after:2026-12-01',
    )
    assert found["provider_query"] == 'from:alex subject:"lunch plans" is:unread after:2026/12/01'
    assert [m["subject"] for m in found["messages"]] == ["Lunch plans"]
    summary = found["messages"][0]
    assert summary["unread"] is True
    assert summary["sender"]["email"] == "alex@example.com"
    attached = await call(reader, "search_messages", query="has:attachment", folder="inbox")
    assert [m["subject"] for m in attached["messages"]] == ["Invoice"]
    assert attached["messages"][0]["has_attachments"] is True


async def test_search_pages_through_with_the_page_token(
    fake: FakeGmail, reader: GmailSettings
) -> None:
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


async def test_unknown_folder_names_close_matches(fake: FakeGmail, reader: GmailSettings) -> None:
    fake.add_label("Receipts")
    error = await tool_error(reader, "search_messages", folder="Reciepts")
    assert "Receipts" in error


async def test_read_a_huge_message_in_an_odd_charset_truncated(
    fake: FakeGmail, reader: GmailSettings
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


async def test_read_thread_oldest_first(fake: FakeGmail, reader: GmailSettings) -> None:
    first = fake.add_message(mail("Trip", date="01 Dec 2026 09:00:00 +0000"))
    fake.add_message(
        mail("Re: Trip", "sam@example.com", date="02 Dec 2026 09:00:00 +0000"), thread_id=first
    )
    thread = await call(reader, "read_thread", thread_id=first)
    assert [m["subject"] for m in thread["messages"]] == ["Trip", "Re: Trip"]


async def test_unknown_message_is_a_clear_error(reader: GmailSettings) -> None:
    error = await tool_error(reader, "read_message", message_id="nope")
    assert "no such message" in error


async def test_list_folders_gives_kinds(fake: FakeGmail, reader: GmailSettings) -> None:
    fake.add_label("Receipts")
    folders = {f["name"]: f["kind"] for f in (await call(reader, "list_folders"))["result"]}
    assert folders["INBOX"] == "inbox"
    assert folders["TRASH"] == "trash"
    assert folders["Receipts"] == "other"


async def test_writes_with_a_read_only_sign_in_are_refused(
    fake: FakeGmail, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings(writes=True)
    sign_in(settings)
    message_id = fake.add_message(mail("Keep"))
    error = await tool_error(settings, "trash_messages", ids=[message_id])
    assert "read only" in error
    assert "ANGIE_GMAIL_WRITES=true" in error
    assert "TRASH" not in fake.messages[message_id]["labelIds"]


async def test_the_fake_refuses_writes_without_the_scope(
    fake: FakeGmail, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    """Google's own 403 (a token whose stored scopes claim more than it has) is the same error."""
    settings = make_settings(writes=True)
    tokens = sign_in(settings)
    token_file(settings).save({**tokens, "scopes": [*tokens["scopes"], fake_modify()]})
    message_id = fake.add_message(mail("Keep"))
    error = await tool_error(settings, "archive_messages", ids=[message_id])
    assert "read only" in error
    assert "INBOX" in fake.messages[message_id]["labelIds"]


def fake_modify() -> str:
    return "https://www.googleapis.com/auth/gmail.modify"


async def test_trash_archive_label_flag_and_mark_read(
    fake: FakeGmail, writer: GmailSettings
) -> None:
    receipts = fake.add_label("Receipts")
    one, two = fake.add_message(mail("One")), fake.add_message(mail("Two"))
    await call(writer, "trash_messages", ids=[one])
    assert "TRASH" in fake.messages[one]["labelIds"]
    assert one in fake.messages
    await call(writer, "archive_messages", ids=[two])
    assert "INBOX" not in fake.messages[two]["labelIds"]
    await call(writer, "label_messages", ids=[two], add=["receipts"])
    assert receipts in fake.messages[two]["labelIds"]
    error = await tool_error(writer, "label_messages", ids=[two], add=["Reciepts"])
    assert "Receipts" in error
    await call(writer, "flag_messages", ids=[two], flagged=True)
    await call(writer, "mark_read", ids=[two], read=True)
    assert "STARRED" in fake.messages[two]["labelIds"]
    assert "UNREAD" not in fake.messages[two]["labelIds"]
    await call(writer, "move_messages", ids=[two], folder="inbox")
    assert "INBOX" in fake.messages[two]["labelIds"]


async def test_send_and_reply_threaded(fake: FakeGmail, writer: GmailSettings) -> None:
    original = fake.add_message(mail("Dinner?", message_id="<dinner@example.com>"))
    sent = await call(writer, "reply", message_id=original, body="Yes!", reply_all=True)
    assert sent["thread_id"] == original
    assert sent["subject"] == "Re: Dinner?"
    raw = fake.messages[sent["id"]]["raw"].decode()
    assert "In-Reply-To: <dinner@example.com>" in raw
    assert "sam@example.com" in raw
    assert "From: me@example.com" in raw
    new = await call(writer, "send_message", to=["pat@example.com"], subject="Hi", body="Hey")
    assert fake.messages[new["id"]]["labelIds"] == ["SENT"]


async def test_draft_then_send_it(fake: FakeGmail, writer: GmailSettings) -> None:
    draft = await call(writer, "create_draft", to=["pat@example.com"], subject="Plan", body="B")
    assert fake.messages[draft["message_id"]]["labelIds"] == ["DRAFT"]
    sent = await call(writer, "send_draft", draft_id=draft["id"])
    assert sent["subject"] == "Plan"
    assert sent["to"][0]["email"] == "pat@example.com"
    assert fake.messages[draft["message_id"]]["labelIds"] == ["SENT"]
    error = await tool_error(writer, "send_draft", draft_id=draft["id"])
    assert "no such" in error


async def test_save_attachment_stays_in_the_download_folder(
    fake: FakeGmail, writer: GmailSettings, tmp_path: Path
) -> None:
    message_id = fake.add_message(mail("Invoice", attachment=b"%PDF-1.7 data"))
    message = await call(writer, "read_message", message_id=message_id)
    saved = await call(
        writer,
        "save_attachment",
        message_id=message_id,
        attachment_id=message["attachments"][0]["id"],
    )
    path = Path(saved["path"])
    assert path.parent == tmp_path / "downloads"
    assert path.read_bytes() == b"%PDF-1.7 data"  # noqa: ASYNC240 - a test reading its result
    small = writer.model_copy(update={"max_download_bytes": 4})
    error = await tool_error(small, "save_attachment", message_id=message_id, attachment_id="0")
    assert "download limit" in error
    missing = await tool_error(writer, "save_attachment", message_id=message_id, attachment_id="5")
    assert "attachment" in missing


async def test_expired_access_token_is_refreshed_and_saved(
    fake: FakeGmail, reader: GmailSettings
) -> None:
    before = token_file(reader).load()
    fake.expire_access_tokens()
    fake.add_message(mail("After refresh"))
    found = await call(reader, "search_messages")
    assert [m["subject"] for m in found["messages"]] == ["After refresh"]
    after = token_file(reader).load()
    assert after is not None
    assert before is not None
    assert after["token"] != before["token"]


async def test_revoked_sign_in_says_reconnect_gmail(
    fake: FakeGmail, make_settings: MakeSettings, sign_in: SignIn
) -> None:
    settings = make_settings()
    tokens = sign_in(settings)
    fake.revoke(tokens["refresh_token"])
    error = await tool_error(settings, "search_messages")
    assert "Reconnect gmail" in error
    assert "angie-mcp-gmail auth" in error
    assert tokens["refresh_token"] not in error


async def test_rate_limit_passes_retry_after_and_5xx_is_an_upstream_error(
    fake: FakeGmail, reader: GmailSettings
) -> None:
    busy = Reply.json(429, {"error": {"code": 429, "message": "Too many"}}, {"Retry-After": "7"})
    fake.inject(busy, path="/gmail/v1/users/me/messages")
    error = await tool_error(reader, "search_messages")
    assert "7" in error
    fake.inject(Reply.json(503, {"error": {"code": 503, "message": "down"}}), times=10)
    error = await tool_error(reader, "search_messages")
    assert "503" in error or "unavailable" in error.lower()


async def test_not_signed_in_says_how_to_connect(make_settings: MakeSettings) -> None:
    error = await tool_error(make_settings(), "search_messages")
    assert "angie-mcp-gmail auth" in error


def test_raw_is_base64url(fake: FakeGmail) -> None:
    message_id = fake.add_message(mail("x"))
    view = fake._view(fake.messages[message_id], "raw")  # the wire form the SDK decodes
    assert base64.urlsafe_b64decode(view["raw"] + "==").startswith(b"From:")
