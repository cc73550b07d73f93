"""``angie login`` and ``angie logout``: keep a personal API token for this machine, or drop it."""

from __future__ import annotations

import os
import socket
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from angie.cli.client import (
    TOKEN_ENV,
    AngieClient,
    RequestFailed,
    check_url,
    connect,
    saved_login,
    url_option,
)
from angie.cli.context import fail
from angie.cli.login_store import LoginStoreError, SavedLogin, save_login

__all__ = ("login", "logout", "remember", "token_for")

console = Console(highlight=False)


def token_name() -> str:
    return f"angie-cli@{socket.gethostname() or 'unknown'}"[:120]


def token_for(api: AngieClient, email: str, password: str) -> tuple[str, dict[str, object]]:
    """Log in with a password, make a personal API token for this machine, end that login.

    The token outlives the 15-minute access token; the login session is not needed after.
    Returns the token and the person; a refused login is raised as :class:`RequestFailed`.
    """
    tokens = api.post("/api/auth/login", {"email": email, "password": password}, expect=(401,))
    with AngieClient(api.url, tokens["access_token"]) as signed_in:
        made = signed_in.post("/api/me/tokens", {"name": token_name()})
        signed_in.post("/api/auth/logout")
    user = tokens.get("user") if isinstance(tokens.get("user"), dict) else {}
    return str(made["token"]), user or {}


def remember(url: str, token: str) -> None:
    try:
        path = save_login(SavedLogin(url=url, token=token))
    except LoginStoreError as err:
        fail(str(err))
    console.print(f"[dim]saved to {escape(str(path))}[/]")


def _ask_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: no password on standard input", code=2)
        return password
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password: use --password-stdin or --token", code=2)
    return Prompt.ask("Password", password=True, console=console)


@click.command()
@url_option
@click.option("--email", help="Your account's email address (asked when not given).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.option("--token", help="Save this personal API token instead (checked with Angie first).")
def login(url: str | None, email: str | None, password_stdin: bool, token: str | None) -> None:
    """Log in to Angie and keep a personal API token for this machine."""
    with connect(url, token=token or "") as api:
        if token:
            try:
                me = api.get("/api/me", expect=(401,))
            except RequestFailed as err:
                fail(f"Angie refused that token: {err.message}")
            remember(api.url, token)
            console.print(f"[green]✓[/] logged in to {api.url} as {escape(str(me['email']))}")
            return
        if not email:
            if not sys.stdin.isatty():
                fail("--email is needed when there is no terminal to ask", code=2)
            email = Prompt.ask("Email", console=console).strip()
        password = _ask_password(password_stdin)
        try:
            plain, user = token_for(api, email, password)
        except RequestFailed as err:
            fail(err.message)
        remember(api.url, plain)
        who = escape(str(user.get("email") or email))
        console.print(f"[green]✓[/] logged in to {api.url} as {who}")


@click.command()
@url_option
def logout(url: str | None) -> None:
    """Revoke this machine's API token and forget it."""
    config = saved_login()
    with connect(url) as api:
        if not api.token:
            fail("you are not logged in")
        try:
            api.post("/api/auth/logout", expect=(401,))
        except RequestFailed:
            console.print("[dim]Angie had already refused this token[/]")
    if config.token and config.url and check_url(config.url) == api.url:
        try:
            save_login(SavedLogin(url=config.url, token=None))
        except LoginStoreError as err:
            fail(str(err))
    console.print(f"[green]✓[/] logged out of {api.url}")
    if os.environ.get(TOKEN_ENV):
        console.print(f"[yellow]{TOKEN_ENV} is still set in your environment (and now revoked)[/]")
