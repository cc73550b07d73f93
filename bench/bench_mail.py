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
import functools
import os
import shutil
import ssl
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings
from imapclient import IMAPClient  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakes.mail_servers import DOVECOT, MailServers

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _mail_rounds as rounds
else:  # run as a script: bench/ itself is on sys.path
    import _mail_rounds as rounds


async def _fill(mail: MailServers) -> None:
    for n in range(rounds.MESSAGES):
        await mail.deliver(rounds.sender(n), mail.address, rounds.subject(n), rounds.body(n))


def direct(mail: MailServers, context: ssl.SSLContext) -> tuple[float, float]:
    client = IMAPClient("127.0.0.1", port=mail.imaps_port, ssl=True, ssl_context=context)
    client.login(mail.address, mail.password)
    try:
        start = time.perf_counter()
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]), reverse=True)
        for at in range(0, len(uids), rounds.PAGE):
            client.fetch(
                uids[at : at + rounds.PAGE],
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
        angie, bare = await rounds.alternate(
            lambda: build(settings), functools.partial(direct, mail, mail.client_ssl_context)
        )
    rounds.report("Dovecot", "imapclient", angie, bare)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
