"""The Yahoo Mail MCP server through the MCP client, against a real Dovecot (IMAP over TLS with
Yahoo's special folders) and an aiosmtpd submission server (STARTTLS and AUTH required)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings
from fakes.mail_servers import MailServers
from fastmcp import Client
from fastmcp.exceptions import ToolError

READS = {"status", "search_messages", "read_message", "read_thread", "list_folders"}
WRITES = {
    "create_draft",
    "move_messages",
    "archive_messages",
    "label_messages",
    "flag_messages",
    "mark_read",
    "save_attachment",
}
DESTROYS = {"send_draft", "send_message", "reply", "trash_messages"}
ALEX = "Alex Doe <alex@example.com>"


async def call(client: Client[Any], tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    content = result.structured_content
    # A list comes wrapped as {"result": [...]}.
    return (
        content["result"] if isinstance(content, dict) and set(content) == {"result"} else content
    )


async def inbox(client: Client[Any], query: str = "", **more: Any) -> list[dict[str, Any]]:
    found = await call(client, "search_messages", query=query, **more)
    return list(found["messages"])


async def test_read_only_unless_writes_are_on_with_honest_hints(
    make_settings: Callable[..., YahooSettings],
) -> None:
    async with Client(build(make_settings(writes=False))) as client:
        assert {t.name for t in await client.list_tools()} == READS
    async with Client(build(make_settings())) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == READS | WRITES | DESTROYS
    for name, tool in tools.items():
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (name in READS), name
        assert tool.annotations.destructive_hint is (name in DESTROYS), name
        for argument, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{name}.{argument}"


async def test_status_and_folders(yahoo: Client[Any]) -> None:
    status = await call(yahoo, "status")
    assert (status["configured"], status["upstream_reachable"]) == (True, True)
    folders = {f["kind"]: f["name"] for f in await call(yahoo, "list_folders")}
    assert folders == {
        "inbox": "INBOX",
        "drafts": "Drafts",
        "sent": "Sent",
        "trash": "Trash",
        "spam": "Bulk Mail",
        "archive": "Archive",
    }


async def test_search_reads_newest_first_with_the_one_syntax(
    yahoo: Client[Any], mail: MailServers
) -> None:
    await mail.deliver(ALEX, mail.address, "Lunch plans", "Thursday at the usual place?")
    await mail.deliver("news@shop.test", mail.address, "Sale", "", html="<p>50% <b>off</b></p>")
    await mail.deliver("sam.b@example.com", mail.address, "Photos", "The garden photos.")

    everything = await inbox(yahoo)
    assert [m["subject"] for m in everything] == ["Photos", "Sale", "Lunch plans"]
    assert all(m["unread"] for m in everything)
    [lunch] = await inbox(yahoo, 'from:alex subject:"lunch plans"')
    assert lunch["sender"] == {"email": "alex@example.com", "name": "Alex Doe"}
    assert lunch["snippet"].startswith("Thursday at the usual place")
    assert lunch["thread_id"].startswith("<")
    assert [m["subject"] for m in await inbox(yahoo, "garden")] == ["Photos"]
    assert await inbox(yahoo, "is:read") == []

    sale = await call(yahoo, "read_message", message_id=everything[1]["id"])
    assert sale["text"] == "50% off"
    assert not sale["truncated"]
    # Reading peeks: the mail stays unread until marked.
    assert [m["subject"] for m in await inbox(yahoo, "is:unread")] == [
        "Photos",
        "Sale",
        "Lunch plans",
    ]


async def test_pages_follow_on_without_repeating(yahoo: Client[Any], mail: MailServers) -> None:
    for n in range(5):
        await mail.deliver(ALEX, mail.address, f"Note {n}", f"number {n}")
    first = await call(yahoo, "search_messages", limit=2)
    assert [m["subject"] for m in first["messages"]] == ["Note 4", "Note 3"]
    second = await call(yahoo, "search_messages", limit=2, page=first["next_page"])
    assert [m["subject"] for m in second["messages"]] == ["Note 2", "Note 1"]
    third = await call(yahoo, "search_messages", limit=2, page=second["next_page"])
    assert [m["subject"] for m in third["messages"]] == ["Note 0"]
    assert third["next_page"] is None


async def _deliver_with_attachment(mail: MailServers) -> None:
    message = EmailMessage()
    message["From"] = ALEX
    message["To"] = mail.address
    message["Subject"] = "Invoice"
    message["Message-ID"] = "<invoice-1@example.com>"
    message.set_content("The invoice is attached.")
    message.add_attachment(
        b"%PDF-1.4 invoice", maintype="application", subtype="pdf", filename="../invoice.pdf"
    )
    await mail.deliver_raw(message.as_bytes())


async def test_attachments_are_found_and_saved_inside_the_download_folder(
    yahoo: Client[Any], mail: MailServers, tmp_path: Path
) -> None:
    await mail.deliver(ALEX, mail.address, "Plain", "no files")
    await _deliver_with_attachment(mail)
    [invoice] = await inbox(yahoo, "has:attachment")
    assert invoice["subject"] == "Invoice"
    read = await call(yahoo, "read_message", message_id=invoice["id"])
    assert [(a["id"], a["filename"], a["content_type"]) for a in read["attachments"]] == [
        ("0", "../invoice.pdf", "application/pdf")
    ]
    saved = await call(yahoo, "save_attachment", message_id=invoice["id"], attachment_id="0")
    assert Path(saved["path"]) == tmp_path / "downloads" / "invoice.pdf"
    assert await asyncio.to_thread(Path(saved["path"]).read_bytes) == b"%PDF-1.4 invoice"
    with pytest.raises(ToolError, match="No attachment named '3'"):
        await call(yahoo, "save_attachment", message_id=invoice["id"], attachment_id="3")


async def test_a_reply_is_sent_threaded_and_kept_in_sent(
    yahoo: Client[Any], mail: MailServers
) -> None:
    asked = await mail.deliver(ALEX, mail.address, "Lunch plans", "Thursday?")
    [lunch] = await inbox(yahoo)

    sent = await call(yahoo, "reply", message_id=lunch["id"], body="Thursday works.")

    [delivered] = await mail.wait_sent(1)
    assert delivered.rcpt_tos == ("alex@example.com",)
    assert delivered.message["In-Reply-To"] == asked
    assert delivered.message["Subject"] == "Re: Lunch plans"
    assert sent["id"].startswith("Sent:")
    thread = await call(yahoo, "read_thread", thread_id=lunch["thread_id"])
    assert [m["folders"] for m in thread["messages"]] == [["INBOX"], ["Sent"]]
    assert thread["messages"][1]["text"] == "Thursday works."


async def test_a_draft_waits_in_drafts_until_sent(yahoo: Client[Any], mail: MailServers) -> None:
    draft = await call(
        yahoo, "create_draft", to=["alex@example.com"], subject="Hello", body="Draft text"
    )
    assert draft["id"].startswith("Drafts:")
    assert mail.sent == []
    [kept] = await inbox(yahoo, folder="Drafts")
    assert kept["subject"] == "Hello"

    await call(yahoo, "send_draft", draft_id=draft["id"])

    [delivered] = await mail.wait_sent(1)
    assert delivered.rcpt_tos == ("alex@example.com",)
    assert await inbox(yahoo, folder="Drafts") == []
    assert [m["subject"] for m in await inbox(yahoo, folder="Sent")] == ["Hello"]
    [sent] = await inbox(yahoo, folder="Sent")
    with pytest.raises(ToolError, match="not a draft"):
        await call(yahoo, "send_draft", draft_id=sent["id"])


async def test_trash_moves_and_never_erases_and_flags_stick(
    yahoo: Client[Any], mail: MailServers
) -> None:
    await mail.deliver(ALEX, mail.address, "Junk offer", "buy now")
    await mail.deliver(ALEX, mail.address, "Keep me", "important")
    junk, keep = sorted(await inbox(yahoo), key=lambda m: m["subject"])

    moved = await call(yahoo, "trash_messages", ids=[junk["id"]])
    assert moved["new_ids"][junk["id"]].startswith("Trash:")
    assert [m["subject"] for m in await inbox(yahoo)] == ["Keep me"]
    [trashed] = await inbox(yahoo, folder="Trash")
    assert trashed["id"] == moved["new_ids"][junk["id"]]
    # Moved back from the trash, it is whole.
    await call(yahoo, "move_messages", ids=[trashed["id"]], folder="inbox")
    assert sorted(m["subject"] for m in await inbox(yahoo)) == ["Junk offer", "Keep me"]

    await call(yahoo, "flag_messages", ids=[keep["id"]], flagged=True)
    await call(yahoo, "mark_read", ids=[keep["id"]])
    await call(yahoo, "label_messages", ids=[keep["id"]], add=["family"])
    assert [m["subject"] for m in await inbox(yahoo, "is:flagged")] == ["Keep me"]
    assert [m["subject"] for m in await inbox(yahoo, "is:read")] == ["Keep me"]
    await call(yahoo, "archive_messages", ids=[keep["id"]])
    assert [m["subject"] for m in await inbox(yahoo, folder="Archive")] == ["Keep me"]


async def test_a_huge_mail_is_cut(yahoo: Client[Any], mail: MailServers) -> None:
    await mail.deliver(ALEX, mail.address, "Long", "word " * 20_000)
    [long] = await inbox(yahoo)
    read = await call(yahoo, "read_message", message_id=long["id"])
    assert read["truncated"]
    assert len(read["text"]) == 20_000


async def test_bad_input_and_bad_days_say_what_is_wrong(
    yahoo: Client[Any], mail: MailServers, make_settings: Callable[..., YahooSettings]
) -> None:
    await mail.deliver(ALEX, mail.address, "Hi", "hello")
    [hi] = await inbox(yahoo)
    folder, validity, uid = hi["id"].rsplit(":", 2)

    with pytest.raises(ToolError, match="is not a message id of this server"):
        await call(yahoo, "read_message", message_id="42")
    with pytest.raises(ToolError, match="was rebuilt"):
        await call(yahoo, "read_message", message_id=f"{folder}:{int(validity) + 1}:{uid}")
    with pytest.raises(ToolError, match=r"No folder named 'Trsh'\. Did you mean 'Trash'"):
        await call(yahoo, "move_messages", ids=[hi["id"]], folder="Trsh")
    with pytest.raises(ToolError, match="is:unread, is:read or is:flagged"):
        await call(yahoo, "search_messages", query="is:urgent")
    with pytest.raises(ToolError, match="cannot be a label"):
        await call(yahoo, "label_messages", ids=[hi["id"]], add=["\\Deleted"])

    mail.fail_smtp(554, "5.7.1 Message refused")
    with pytest.raises(ToolError, match="sending failed"):
        await call(yahoo, "send_message", to=["alex@example.com"], subject="x", body="y")

    wrong = make_settings(app_password="not the password")
    async with Client(build(wrong)) as client:
        with pytest.raises(ToolError, match="app password"):
            await call(client, "search_messages")

    await mail.stop_imap()
    with pytest.raises(ToolError, match=r"could not reach 127\.0\.0\.1"):
        await call(yahoo, "search_messages")
    await mail.start_imap()
    # The server is back: the next call connects again.
    assert [m["subject"] for m in await inbox(yahoo)] == ["Hi"]


async def test_not_configured_names_the_settings(tmp_path: Path) -> None:
    async with Client(build(YahooSettings(_env_file=None))) as client:
        status = await call(client, "status")
        assert status["missing_settings"] == ["ANGIE_YAHOO_ADDRESS", "ANGIE_YAHOO_APP_PASSWORD"]
        with pytest.raises(ToolError, match="ANGIE_YAHOO_ADDRESS, ANGIE_YAHOO_APP_PASSWORD"):
            await call(client, "search_messages")
