"""`angie-mcp-outlook`: serve the Outlook tools, or `auth` to connect a Microsoft account."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from angie_mcp_core.runner import main as run_main
from angie_mcp_outlook.auth import SignInError, sign_in
from angie_mcp_outlook.scopes import scopes_for
from angie_mcp_outlook.server import build
from angie_mcp_outlook.settings import OutlookSettings

__all__ = ("main",)

PROG = "angie-mcp-outlook"


def _configure_auth(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Connect a Microsoft account with a device code: open the address shown on any device, "
        "enter the code and allow Angie. Read-only unless ANGIE_OUTLOOK_WRITES=true. The "
        "tokens are stored encrypted in ANGIE_OUTLOOK_TOKEN_FILE."
    )


def _auth(settings: OutlookSettings, args: argparse.Namespace) -> int:
    missing = settings.missing()
    if missing:
        print(f"{PROG} auth: error: set {', '.join(missing)} first.", file=sys.stderr)
        return 2
    print(f"Asking Microsoft for: {', '.join(scopes_for(settings.writes))}", flush=True)
    try:
        sign_in(settings, show=lambda line: print(line, flush=True))
    except SignInError as err:
        print(f"{PROG} auth: signing in failed: {err}", file=sys.stderr)
        return 1
    print("Connected to Outlook.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(
        build, OutlookSettings, argv, prog=PROG, commands=[("auth", _configure_auth, _auth)]
    )


if __name__ == "__main__":
    sys.exit(main())
