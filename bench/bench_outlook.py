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
import functools
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from angie_mcp_outlook.account import token_file
from angie_mcp_outlook.client import graph_protocol
from angie_mcp_outlook.server import build
from angie_mcp_outlook.settings import OutlookSettings
from angie_mcp_outlook.testing import CLIENT_ID, FakeOutlook
from O365.connection import Connection
from O365.mailbox import MailBox

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _mail_rounds as rounds
else:  # run as a script: bench/ itself is on sys.path
    import _mail_rounds as rounds


def _fill(fake: FakeOutlook) -> None:
    for n in range(rounds.MESSAGES):
        fake.add_message(rounds.sample(n))


def direct(fake: FakeOutlook, access_token: str) -> tuple[float, float]:
    connection = Connection(
        (CLIENT_ID,), auth_flow_type="public", requests_delay=0, request_retries=0
    )
    connection.session = requests.Session()
    connection.session.headers["Authorization"] = f"Bearer {access_token}"
    mailbox = MailBox(con=connection, protocol=graph_protocol(fake.graph_url), main_resource="me")
    start = time.perf_counter()
    inbox = mailbox.inbox_folder()
    messages = list(
        inbox.get_messages(limit=None, batch=rounds.PAGE, order_by="receivedDateTime desc")
    )
    searched = time.perf_counter() - start
    assert len(messages) == rounds.MESSAGES, len(messages)
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
        angie, bare = await rounds.alternate(
            lambda: build(settings), functools.partial(direct, fake, tokens["access_token"])
        )
    rounds.report("the fake Graph", "O365", angie, bare)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
