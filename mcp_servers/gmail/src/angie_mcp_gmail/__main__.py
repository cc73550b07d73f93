"""`angie-mcp-gmail`: serve the Gmail tools, or `auth` to connect a Google account."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_gmail.auth import sign_in
from angie_mcp_gmail.scopes import scopes_for
from angie_mcp_gmail.server import build
from angie_mcp_gmail.settings import GmailSettings

__all__ = ("main",)

PROG = "angie-mcp-gmail"


def _configure_auth(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Connect a Google account: a browser opens Google's consent page and comes back to a "
        "one-off page on 127.0.0.1. Read-only unless ANGIE_GMAIL_WRITES=true. The tokens are "
        "stored encrypted in ANGIE_GMAIL_TOKEN_FILE."
    )
    # Not --port: that is the MCP server's own HTTP port, read by the shared runner.
    parser.add_argument(
        "--redirect-port", type=int, help="port of the loopback redirect page (default: any free)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL instead of opening a browser"
    )


def _auth(settings: GmailSettings, args: argparse.Namespace) -> int:
    missing = settings.missing()
    if missing:
        print(f"{PROG} auth: error: set {', '.join(missing)} first.", file=sys.stderr)
        return 2
    print(f"Asking Google for: {', '.join(scopes_for(settings.writes))}", flush=True)
    try:
        sign_in(
            settings,
            port=args.redirect_port or 0,
            open_browser=not args.no_browser,
            show=lambda line: print(line, flush=True),
        )
    except Exception as err:
        print(f"{PROG} auth: signing in failed: {err}", file=sys.stderr)
        return 1
    print("Connected to Gmail.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(
        build, GmailSettings, argv, prog=PROG, commands=[("auth", _configure_auth, _auth)]
    )


if __name__ == "__main__":
    sys.exit(main())
