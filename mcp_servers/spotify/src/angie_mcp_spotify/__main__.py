"""`angie-mcp-spotify`: serve the Spotify tools, or `auth` to sign a Spotify account in."""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence

from angie_mcp_core.errors import NotConfiguredError, ServerToolError
from angie_mcp_core.runner import main as run_main
from angie_mcp_spotify.client import SERVICE, SpotifyClient
from angie_mcp_spotify.server import build, create_client
from angie_mcp_spotify.settings import SpotifySettings

__all__ = ("main",)

PROG = "angie-mcp-spotify"


def _configure_auth(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Sign a Spotify account in without a browser on this machine: open the printed URL "
        "anywhere, allow Angie, then paste back the URL the browser was sent to. The tokens "
        "are stored encrypted in ANGIE_SPOTIFY_TOKEN_FILE."
    )


def _auth(settings: SpotifySettings, args: argparse.Namespace) -> int:
    """Prompts go to stdout, the pasted URL comes from stdin, a failure is one stderr line."""
    state = secrets.token_urlsafe(16)
    with create_client(settings) as client:
        try:
            url = client.authorize_url(state)
        except NotConfiguredError as err:
            print(f"{PROG} auth: error: {err}", file=sys.stderr)
            return 2
        print("Open this URL in a browser, sign in to Spotify and allow Angie:")
        print(url)
        print(
            f"The browser is then sent to {settings.redirect_uri}?code=… (the page may not "
            "load). Paste that whole URL here and press Enter:",
            flush=True,
        )
        pasted = sys.stdin.readline().strip()
        if not pasted:
            print(f"{PROG} auth: no redirect URL was pasted; nothing changed.", file=sys.stderr)
            return 1
        try:
            client.exchange_code(SpotifyClient.code_from_redirect(pasted, state))
        except ServerToolError as err:
            print(f"{PROG} auth: {err}", file=sys.stderr)
            return 1
        try:
            who = client.probe().removeprefix(f"{SERVICE} account ")
        except ServerToolError as err:
            print(f"{PROG} auth: signed in, but reading the account failed: {err}", file=sys.stderr)
            return 1
    print(f"Signed in to {SERVICE} as {who}.")
    print(f"The tokens are stored encrypted in {settings.token_path()}.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(
        build, SpotifySettings, argv, prog=PROG, commands=[("auth", _configure_auth, _auth)]
    )


if __name__ == "__main__":
    sys.exit(main())
