"""Searching and reading 1,000 messages through Angie's Gmail server, against
google-api-python-client called directly on the same fake Gmail API: the server's own cost
(MCP, validation, token handling, MIME parsing to the shared mail models).

The fake Gmail API on 127.0.0.1 (angie_mcp_gmail.testing) holds 1,000 messages. Each round
pages through the inbox 100 at a time (search: a list page, then every listed message fetched
raw, as the server does to fill its summaries), then reads every message whole: through the
server's tools with the MCP client (in memory), and with one bare Gmail service built from the
discovery document the library ships, making the same calls. Rounds alternate.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httplib2
from angie_mcp_gmail.account import token_file
from angie_mcp_gmail.server import build
from angie_mcp_gmail.settings import GmailSettings
from angie_mcp_gmail.testing import CLIENT_ID, CLIENT_SECRET, FakeGmail
from fastmcp import Client
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient import discovery
from pydantic import SecretStr

MESSAGES = int(os.environ.get("ANGIE_BENCH_MAIL_MESSAGES", "1000"))
ROUNDS = int(os.environ.get("ANGIE_BENCH_SAMPLES", "3"))
PAGE = 100


def _fill(fake: FakeGmail) -> None:
    for n in range(MESSAGES):
        message = EmailMessage()
        message["From"] = f"sender{n % 37}@example.com"
        message["To"] = "me@example.com"
        message["Subject"] = f"Message {n}"
        message["Date"] = f"Tue, 01 Dec 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 +0000"
        message.set_content(f"Hello, this is message number {n}.\n" + "Some ordinary text. " * 40)
        fake.add_message(message.as_bytes())


async def through_angie(settings: GmailSettings) -> tuple[float, float]:
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


def direct(fake: FakeGmail, tokens: dict[str, Any]) -> tuple[float, float]:
    credentials = Credentials(  # type: ignore[no-untyped-call]
        token=tokens["token"],
        refresh_token=tokens["refresh_token"],
        token_uri=fake.token_uri,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=tokens["scopes"],
    )
    service: Any = discovery.build(
        "gmail",
        "v1",
        http=AuthorizedHttp(credentials, http=httplib2.Http(timeout=60)),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": fake.api_url},
    )
    messages = service.users().messages()
    start = time.perf_counter()
    ids: list[str] = []
    page: str | None = None
    while True:
        listed = messages.list(userId="me", maxResults=PAGE, labelIds=["INBOX"], pageToken=page)
        found = listed.execute()
        for ref in found.get("messages", []):
            messages.get(userId="me", id=ref["id"], format="raw").execute()
            ids.append(ref["id"])
        page = found.get("nextPageToken")
        if page is None:
            break
    searched = time.perf_counter() - start
    assert len(ids) == MESSAGES, len(ids)
    start = time.perf_counter()
    for message_id in ids:
        assert messages.get(userId="me", id=message_id, format="raw").execute()["raw"]
    return searched, time.perf_counter() - start


async def main() -> int:
    with tempfile.TemporaryDirectory() as state, FakeGmail() as fake:
        _fill(fake)
        settings = GmailSettings(
            _env_file=None,
            client_id=CLIENT_ID,
            client_secret=SecretStr(CLIENT_SECRET),
            api_url=fake.api_url,
            token_uri=fake.token_uri,
            auth_uri=fake.auth_uri,
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
            bare.append(await asyncio.to_thread(direct, fake, tokens))
    best_angie = (min(a[0] for a in angie), min(a[1] for a in angie))
    best_bare = (min(b[0] for b in bare), min(b[1] for b in bare))
    print(f"{MESSAGES} messages in the fake Gmail API; best of {ROUNDS} rounds")
    for label, index in (("search (pages of 100)", 0), ("read each message", 1)):
        mine, base = best_angie[index], best_bare[index]
        print(
            f"  {label:<24} angie {mine * 1000:8.1f} ms   google-api {base * 1000:8.1f} ms"
            f"   ratio {mine / base:4.2f}x   ({mine / MESSAGES * 1000:.2f} ms per message)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
