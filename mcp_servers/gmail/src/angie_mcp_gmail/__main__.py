"""`angie-mcp-gmail`: serve the Gmail tools, or `auth` to connect a Google account."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from angie_mcp_core.google.auth import auth_command
from angie_mcp_core.runner import main as run_main
from angie_mcp_gmail.scopes import GMAIL
from angie_mcp_gmail.server import build
from angie_mcp_gmail.settings import GmailSettings

__all__ = ("main",)


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(
        build, GmailSettings, argv, prog="angie-mcp-gmail", commands=[auth_command(GMAIL)]
    )


if __name__ == "__main__":
    sys.exit(main())
