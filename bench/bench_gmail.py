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
import functools
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httplib2
from angie_mcp_gmail.server import build
from angie_mcp_gmail.settings import GmailSettings
from angie_mcp_gmail.testing import CLIENT_ID, CLIENT_SECRET, FakeGmail
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient import discovery
from pydantic import SecretStr

from angie_mcp_core.google.account import token_file

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _mail_rounds as rounds
else:  # run as a script: bench/ itself is on sys.path
    import _mail_rounds as rounds


def _fill(fake: FakeGmail) -> None:
    for n in range(rounds.MESSAGES):
        fake.add_message(rounds.sample(n))


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
        listed = messages.list(
            userId="me", maxResults=rounds.PAGE, labelIds=["INBOX"], pageToken=page
        )
        found = listed.execute()
        for ref in found.get("messages", []):
            messages.get(userId="me", id=ref["id"], format="raw").execute()
            ids.append(ref["id"])
        page = found.get("nextPageToken")
        if page is None:
            break
    searched = time.perf_counter() - start
    assert len(ids) == rounds.MESSAGES, len(ids)
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
        angie, bare = await rounds.alternate(
            lambda: build(settings), functools.partial(direct, fake, tokens)
        )
    rounds.report("the fake Gmail API", "google-api", angie, bare)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
