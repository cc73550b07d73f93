"""`angie-mcp-<server> auth`: Google's installed-app flow with a loopback redirect, tokens saved
encrypted. Google offers no device-code flow for the Gmail and Calendar scopes, so the loopback
it is. Incremental: read-only unless writing is enabled, with the scopes granted before kept."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from google_auth_oauthlib.flow import InstalledAppFlow

from angie_mcp_core.google.account import TOKEN_URI, token_file
from angie_mcp_core.google.service import GoogleService
from angie_mcp_core.google.settings import GoogleSettings
from angie_mcp_core.runner import Command

__all__ = ("AUTH_URI", "auth_command", "sign_in")

AUTH_URI: Final = "https://accounts.google.com/o/oauth2/auth"


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in {"127.0.0.1", "localhost", "::1"}


def sign_in(
    settings: GoogleSettings,
    service: GoogleService,
    *,
    port: int = 0,
    open_browser: bool = True,
    show: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the consent flow, store the tokens, and return what was stored (without secrets
    shown to anyone). Asks for the write scopes only when writing is enabled."""
    assert settings.client_id is not None
    assert settings.client_secret is not None
    token_uri = settings.token_uri or TOKEN_URI
    config = {
        "installed": {
            "client_id": settings.client_id,
            "client_secret": settings.client_secret.get_secret_value(),
            "auth_uri": settings.auth_uri or AUTH_URI,
            "token_uri": token_uri,
            "redirect_uris": ["http://127.0.0.1"],
        }
    }
    # Google answers with every scope granted so far (include_granted_scopes); oauthlib would
    # otherwise call that a scope change and fail.
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    if _loopback(token_uri):
        # A token endpoint on this machine (a test's fake) is plain http.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    flow = InstalledAppFlow.from_client_config(config, scopes=service.scopes_for(settings.writes))
    credentials = flow.run_local_server(
        host="127.0.0.1",
        port=port,
        open_browser=open_browser,
        authorization_prompt_message="Open this URL in a browser and allow Angie: {url}",
        success_message=f"Angie is connected to {service.name}; you can close this tab.",
        access_type="offline",
        prompt="consent",
        include_granted_scopes="true",
    )
    if credentials.refresh_token is None:
        raise RuntimeError("Google gave no refresh token; remove Angie's access and try again.")
    stored = {
        "token": credentials.token,
        "refresh_token": credentials.refresh_token,
        "expiry": credentials.expiry.replace(tzinfo=UTC).isoformat()
        if credentials.expiry
        else None,
        "scopes": list(credentials.granted_scopes or credentials.scopes or []),
        "granted_at": datetime.now(UTC).isoformat(),
    }
    token_file(settings).save(stored)
    show(f"The tokens are stored encrypted in {settings.token_path()}.")
    return stored


def auth_command(service: GoogleService) -> Command:
    """The server's ``auth`` subcommand, for the kit's runner."""
    prog = f"angie-mcp-{service.server}"

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.description = (
            "Connect a Google account: a browser opens Google's consent page and comes back to "
            f"a one-off page on 127.0.0.1. Read-only unless {service.env('writes')}=true. The "
            f"tokens are stored encrypted in {service.env('token_file')}."
        )
        # Not --port: that is the MCP server's own HTTP port, read by the shared runner.
        parser.add_argument(
            "--redirect-port",
            type=int,
            help="port of the loopback redirect page (default: any free)",
        )
        parser.add_argument(
            "--no-browser", action="store_true", help="print the URL instead of opening a browser"
        )

    def run(settings: GoogleSettings, args: argparse.Namespace) -> int:
        missing = settings.missing()
        if missing:
            print(f"{prog} auth: error: set {', '.join(missing)} first.", file=sys.stderr)
            return 2
        # The scopes' short names: the full ones are addresses, not pages to open.
        asked = ", ".join(s.rsplit("/", 1)[-1] for s in service.scopes_for(settings.writes))
        print(f"Asking Google for: {asked}", flush=True)
        try:
            sign_in(
                settings,
                service,
                port=args.redirect_port or 0,
                open_browser=not args.no_browser,
                show=lambda line: print(line, flush=True),
            )
        except Exception as err:
            print(f"{prog} auth: signing in failed: {err}", file=sys.stderr)
            return 1
        print(f"Connected to {service.name}.")
        return 0

    return ("auth", configure, run)
