"""``angie tokens``: personal API tokens and their scopes (list, create, revoke).

Making a token needs the password: a token cannot make another (it could outlive it once
revoked), so ``create`` logs in for this one request and keeps nothing but the new token's
value on screen, shown once.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table

from angie.accounts.scopes import ALL, parse_scopes
from angie.cli.client import AngieClient, RequestFailed, connect, url_option
from angie.cli.context import fail
from angie.cli.render import clip, items, when
from angie.cli.session import _ask_password

__all__ = ("tokens",)

console = Console(highlight=False)


@click.group()
def tokens() -> None:
    """Personal API tokens for scripts and servers, each limited to its scopes."""


@tokens.command("list")
@url_option
def list_tokens(url: str | None) -> None:
    """Your tokens with their scopes (never their values)."""
    with connect(url) as api:
        rows = items(api.get("/api/me/tokens", params={"limit": 200}))
    if not rows:
        console.print("[dim]No tokens.[/]")
        return
    table = Table("id", "name", "prefix", "scopes", "last used", "state")
    for row in rows:
        table.add_row(
            str(row.get("id")),
            clip(row.get("name"), 30),
            escape(f"{row.get('prefix')}…"),
            escape(" ".join(row.get("scopes") or [])),
            when(row.get("last_used_at")) if row.get("last_used_at") else "-",
            "[red]revoked[/]" if row.get("revoked_at") else "[green]active[/]",
        )
    console.print(table)


@tokens.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. mcp-angie.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="What it may do, e.g. crons:write (repeat the option); default * (everything).",
)
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="Default: never.")
@click.option("--email", help="Your account's email address (asked when not given).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@url_option
def create(
    name: str,
    scopes: tuple[str, ...],
    expires_in_days: int | None,
    email: str | None,
    password_stdin: bool,
    url: str | None,
) -> None:
    """Make a token limited to its scopes and print it once."""
    try:
        wanted = list(parse_scopes(scopes or (ALL,)))
    except ValueError as err:
        fail(f"--scope: {err}", code=2)
    if not email:
        if not sys.stdin.isatty():
            fail("--email is needed when there is no terminal to ask", code=2)
        email = Prompt.ask("Email", console=console).strip()
    password = _ask_password(password_stdin)
    with connect(url, token="") as api:
        try:
            login = api.post(
                "/api/auth/login", {"email": email, "password": password}, expect=(401,)
            )
            with AngieClient(api.url, login["access_token"]) as signed_in:
                made = signed_in.post(
                    "/api/me/tokens",
                    {"name": name, "scopes": wanted, "expires_in_days": expires_in_days},
                    expect=(422,),
                )
        except RequestFailed as err:
            fail(err.message)
    console.print(f"[green]✓[/] token {escape(name)} with scopes {escape(' '.join(wanted))}")
    console.print("Shown only now, keep it secret:")
    click.echo(made["token"])


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
@url_option
def revoke(token_id: int, url: str | None) -> None:
    """Revoke one of your tokens; whatever uses it stops working at once."""
    with connect(url) as api:
        try:
            api.delete(f"/api/me/tokens/{token_id}", expect=(404,))
        except RequestFailed as err:
            fail(err.message)
    console.print(f"[green]✓[/] token {token_id} revoked")
