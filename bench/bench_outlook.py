"""Searching and reading 1,000 messages through Angie's Outlook server, against O365 called
directly on the same fake Graph: the server's own cost (MCP, validation, token handling, MIME
parsing to the shared mail models).

The fake Microsoft Graph on 127.0.0.1 (angie_mcp_outlook.testing) holds 1,000 messages. Each
round pages through the inbox 100 at a time (search), then reads every message whole: through
the server's tools with the MCP client (in memory), and with one bare O365 connection doing the
same list pages, message GETs and ``/$value`` downloads. Rounds alternate.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import requests
from angie_mcp_outlook.account import token_file
from angie_mcp_outlook.client import graph_protocol
from angie_mcp_outlook.server import build
from angie_mcp_outlook.settings import OutlookSettings
from angie_mcp_outlook.testing import CLIENT_ID, FakeOutlook
from fastmcp import Client
from O365.connection import Connection
from O365.mailbox import MailBox

MESSAGES = int(os.environ.get("ANGIE_BENCH_MAIL_MESSAGES", "1000"))
ROUNDS = int(os.environ.get("ANGIE_BENCH_SAMPLES", "3"))
PAGE = 100


def _fill(fake: FakeOutlook) -> None:
    for n in range(MESSAGES):
        message = EmailMessage()
        message["From"] = f"sender{n % 37}@example.com"
        message["To"] = "me@example.com"
        message["Subject"] = f"Message {n}"
        message["Date"] = f"Tue, 01 Dec 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 +0000"
        message.set_content(f"Hello, this is message number {n}.\n" + "Some ordinary text. " * 40)
        fake.add_message(message.as_bytes())


async def through_angie(settings: OutlookSettings) -> tuple[float, float]:
    async with Client(build(settings)) as client:
        start = time.perf_counter()
        ids: list[str] = []
        page: str | None = None
        while True:
            arguments: dict[str, object] = {"limit": PAGE}
            if page is not None:
                arguments["page"] = page
            found = (await client.call_tool("search_messages", arguments)).structured_content
            assert found is not None
            ids += [m["id"] for m in found["messages"]]
            page = found["next_page"]
            if page is None:
                break
        searched = time.perf_counter() - start
        assert len(ids) == MESSAGES, len(ids)
        start = time.perf_counter()
        for message_id in ids:
            read = await client.call_tool("read_message", {"message_id": message_id})
            assert read.structured_content is not None
        return searched, time.perf_counter() - start


def direct(fake: FakeOutlook, access_token: str) -> tuple[float, float]:
    connection = Connection(
        (CLIENT_ID,), auth_flow_type="public", requests_delay=0, request_retries=0
    )
    connection.session = requests.Session()
    connection.session.headers["Authorization"] = f"Bearer {access_token}"
    mailbox = MailBox(con=connection, protocol=graph_protocol(fake.graph_url), main_resource="me")
    start = time.perf_counter()
    inbox = mailbox.inbox_folder()
    messages = list(inbox.get_messages(limit=None, batch=PAGE, order_by="receivedDateTime desc"))
    searched = time.perf_counter() - start
    assert len(messages) == MESSAGES, len(messages)
    start = time.perf_counter()
    for message in messages:
        mailbox.get_message(message.object_id)
        assert message.get_mime_content()
    return searched, time.perf_counter() - start


async def main() -> int:
    with tempfile.TemporaryDirectory() as state, FakeOutlook() as fake:
        _fill(fake)
        settings = OutlookSettings(
            _env_file=None,
            client_id=CLIENT_ID,
            graph_url=fake.graph_url,
            login_url=fake.login_url,
            token_file=Path(state) / "tokens.enc",
            download_dir=Path(state) / "downloads",
            timeout=60,
        )
        tokens = fake.sign_in()
        token_file(settings).save(tokens)
        angie: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            angie.append(await through_angie(settings))
            bare.append(await asyncio.to_thread(direct, fake, tokens["access_token"]))
    best_angie = (min(a[0] for a in angie), min(a[1] for a in angie))
    best_bare = (min(b[0] for b in bare), min(b[1] for b in bare))
    print(f"{MESSAGES} messages in the fake Graph; best of {ROUNDS} rounds")
    for label, index in (("search (pages of 100)", 0), ("read each message", 1)):
        mine, base = best_angie[index], best_bare[index]
        print(
            f"  {label:<24} angie {mine * 1000:8.1f} ms   O365 {base * 1000:8.1f} ms"
            f"   ratio {mine / base:4.2f}x   ({mine / MESSAGES * 1000:.2f} ms per message)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
