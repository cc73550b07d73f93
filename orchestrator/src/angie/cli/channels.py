"""``angie channels``: whether each chat channel is connected, and who you are on each (link a
platform identity with the pairing code Angie sent there, unlink it, choose where crons reach
you)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import connect, url_option
from angie.cli.config import connection_line
from angie.cli.context import fail
from angie.cli.render import items, when

__all__ = ("channels",)

console = Console(highlight=False)


@click.group()
def channels() -> None:
    """Chat channels: status, and the identities Angie answers as you (link, unlink, list)."""


def _identity(row: dict[str, Any]) -> str:
    who = row.get("display") or row.get("external_id")
    return f"{row.get('channel')} {escape(str(who))}"


@channels.command("status")
@url_option
def status(url: str | None) -> None:
    """Each channel: on or off, connected or why not, and who you are there."""
    with connect(url) as api:
        kinds = items(api.get("/api/channels"))
        linked = items(api.get("/api/channels/identities"))
    table = Table("channel", "state", "linked as", "last message")
    for kind in kinds:
        mine = [i for i in linked if i.get("channel") == kind.get("channel")]
        state = connection_line(kind) if kind.get("updated_at") else "[dim]not set up[/]"
        table.add_row(
            escape(str(kind.get("channel"))),
            state,
            ", ".join(escape(str(i.get("display") or i.get("external_id"))) for i in mine) or "-",
            when(max((str(i["last_seen_at"]) for i in mine if i.get("last_seen_at")), default="")),
        )
    console.print(table)


@channels.command("list")
@url_option
def list_identities(url: str | None) -> None:
    """The platform identities linked to you."""
    with connect(url) as api:
        rows = items(api.get("/api/channels/identities"))
    if not rows:
        console.print(
            "[dim]None linked. Write to Angie in a channel; she answers with a code for "
            "`angie channels link CODE`.[/]"
        )
        return
    table = Table("id", "channel", "who", "crons reach you here", "linked", "last message")
    for row in rows:
        table.add_row(
            str(row.get("id")),
            escape(str(row.get("channel"))),
            escape(str(row.get("display") or row.get("external_id"))),
            "[green]yes[/]" if row.get("preferred") else "",
            when(row.get("created_at")),
            when(row.get("last_seen_at")),
        )
    console.print(table)


@channels.command("link")
@click.argument("code")
@url_option
def link(code: str, url: str | None) -> None:
    """Link the sender who got CODE in a channel to you: Angie then answers them as you."""
    code = code.strip()
    if not (code.isdigit() and len(code) == 6):
        fail("a pairing code is the six digits Angie sent you in the channel", code=2)
    with connect(url) as api:
        row = api.post("/api/channels/link", {"code": code}, expect=(201,))
    console.print(f"[green]✓[/] linked {_identity(row)}: Angie answers it as you now")
    if row.get("preferred"):
        console.print("crons and webhooks reach you there (`angie channels prefer ID` to change)")


@channels.command("unlink")
@click.argument("identity_id", type=int)
@url_option
def unlink(identity_id: int, url: str | None) -> None:
    """Unlink an identity (its id from `angie channels list`)."""
    with connect(url) as api:
        api.delete(f"/api/channels/identities/{identity_id}", expect=(204,))
    console.print(f"[green]✓[/] unlinked {identity_id}: Angie no longer answers it as you")


@channels.command("prefer")
@click.argument("identity_id", type=int)
@url_option
def prefer(identity_id: int, url: str | None) -> None:
    """Where cron and webhook results reach you (an id from `angie channels list`)."""
    with connect(url) as api:
        row = api.post(f"/api/channels/identities/{identity_id}/prefer")
    console.print(f"[green]✓[/] crons and webhooks reach you on {_identity(row)}")
