"""`angie-mcp-yahoo`: serve one Yahoo Mail mailbox over stdio or HTTP, or `auth` to store the
mailbox's address and app password (checked with an IMAP login first)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.credentials import credentials_command
from angie_mcp_core.runner import main as run_main
from angie_mcp_yahoo.client import YahooMailbox
from angie_mcp_yahoo.server import build
from angie_mcp_yahoo.settings import YahooSettings

__all__ = ("main",)

PROG = "angie-mcp-yahoo"


async def _log_in(settings: YahooSettings) -> str:
    """An IMAP login with the typed address and app password: who signed in."""
    mailbox = YahooMailbox(settings)
    try:
        return await mailbox.probe()
    finally:
        mailbox.close()


def main(argv: Sequence[str] | None = None) -> int:
    auth = credentials_command(_log_in, service="Yahoo Mail")
    return run_main(build, YahooSettings, argv, prog=PROG, commands=[auth])


if __name__ == "__main__":
    sys.exit(main())
