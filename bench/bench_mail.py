"""Searching and reading 1,000 messages through Angie's Yahoo Mail server, against imapclient
called directly on the same Dovecot: the server's own cost (MCP, validation, parsing to the
shared mail models).

A real Dovecot on 127.0.0.1 (tests/fakes/mail_servers.py, needs Debian's dovecot-imapd) holds
1,000 messages. Each round pages through the inbox 100 at a time (search), then reads every
message whole: through the server's tools with the MCP client (in memory), and with one
imapclient connection doing the same SEARCH and FETCHes. Rounds alternate.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import sys
import time
from pathlib import Path

from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings
from fastmcp import Client
from imapclient import IMAPClient  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakes.mail_servers import DOVECOT, MailServers

MESSAGES = int(os.environ.get("ANGIE_BENCH_MAIL_MESSAGES", "1000"))
ROUNDS = int(os.environ.get("ANGIE_BENCH_SAMPLES", "3"))
PAGE = 100


async def _fill(mail: MailServers) -> None:
    for n in range(MESSAGES):
        await mail.deliver(
            f"sender{n % 37}@example.com",
            mail.address,
            f"Message {n}",
            f"Hello, this is message number {n}.\n" + "Some ordinary text. " * 40,
        )


async def through_angie(settings: YahooSettings) -> tuple[float, float]:
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


def direct(mail: MailServers, context: ssl.SSLContext) -> tuple[float, float]:
    client = IMAPClient("127.0.0.1", port=mail.imaps_port, ssl=True, ssl_context=context)
    client.login(mail.address, mail.password)
    try:
        start = time.perf_counter()
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]), reverse=True)
        for at in range(0, len(uids), PAGE):
            client.fetch(
                uids[at : at + PAGE],
                ["FLAGS", "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]<0.2048>", "BODYSTRUCTURE"],
            )
        searched = time.perf_counter() - start
        start = time.perf_counter()
        for uid in uids:
            client.fetch([uid], ["FLAGS", "BODY.PEEK[]"])
        return searched, time.perf_counter() - start
    finally:
        client.logout()


async def main() -> int:
    if not shutil.which("dovecot") and not os.access(DOVECOT, os.X_OK):
        print("skipped: Dovecot is not installed (apt-get install dovecot-imapd)")
        return 0
    async with MailServers("bench@yahoo.test", folders=True) as mail:
        await _fill(mail)
        settings = YahooSettings(
            _env_file=None,
            address=mail.address,
            app_password=mail.password,
            imap_host="127.0.0.1",
            imap_port=mail.imaps_port,
            ca_file=mail.ca_file,
            timeout=60,
        )
        angie: list[tuple[float, float]] = []
        bare: list[tuple[float, float]] = []
        for _ in range(ROUNDS):
            angie.append(await through_angie(settings))
            bare.append(await asyncio.to_thread(direct, mail, mail.client_ssl_context))
    best_angie = (min(a[0] for a in angie), min(a[1] for a in angie))
    best_bare = (min(b[0] for b in bare), min(b[1] for b in bare))
    print(f"{MESSAGES} messages in Dovecot; best of {ROUNDS} rounds")
    for label, index in (("search (pages of 100)", 0), ("read each message", 1)):
        mine, base = best_angie[index], best_bare[index]
        print(
            f"  {label:<24} angie {mine * 1000:8.1f} ms   imapclient {base * 1000:8.1f} ms"
            f"   ratio {mine / base:4.2f}x   ({mine / MESSAGES * 1000:.2f} ms per message)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
