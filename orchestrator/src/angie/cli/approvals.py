"""``angie approvals``: the tool calls Angie waits to be allowed to make; allow or refuse them."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import connect, url_option
from angie.cli.render import arguments, clip, items, status, when

__all__ = ("approvals",)

console = Console(highlight=False)

ApprovalId = click.IntRange(1, 2**31 - 1)
STATUSES = ("pending", "approved", "denied", "expired")


@click.group()
def approvals() -> None:
    """What Angie asks before doing: list, approve, deny."""


@approvals.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Show these instead of the pending ones (repeatable).",
)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@url_option
def list_approvals(statuses: tuple[str, ...], limit: int, url: str | None) -> None:
    """The approvals waiting for you (or others, with --status)."""
    params: dict[str, Any] = {"limit": limit}
    if statuses:
        params["status"] = list(statuses)
    with connect(url) as api:
        rows = items(api.get("/api/approvals", params=params))
    if not rows:
        console.print(
            "[dim]Nothing waits for your approval.[/]" if not statuses else "[dim]None.[/]"
        )
        return
    table = Table("id", "task", "tool", "arguments", "status", "asked", "expires")
    for row in rows:
        table.add_row(
            str(row.get("id")),
            str(row.get("task_id")),
            escape(f"{row.get('server')}.{row.get('tool')}"),
            arguments(row.get("arguments"), 60),
            status(row.get("status")),
            when(row.get("created_at")),
            when(row.get("expires_at")) if row.get("status") == "pending" else "-",
        )
    console.print(table)
    if any(row.get("status") == "pending" for row in rows):
        console.print(
            "[dim]Decide with `angie approvals approve ID` or `angie approvals deny ID`.[/]"
        )


def _decide(approval_id: int, verb: str, reason: str | None, url: str | None) -> None:
    body = {"reason": reason} if reason else None
    with connect(url) as api:
        row = api.post(f"/api/approvals/{approval_id}/{verb}", body)
    name = escape(f"{row.get('server')}.{row.get('tool')}")
    console.print(
        f"[green]✓[/] approval {approval_id} ({name} {arguments(row.get('arguments'), 50)}) "
        f"is {status(row.get('status'))}; task {row.get('task_id')} goes on"
    )
    if row.get("reason"):
        console.print(f"[dim]reason: {clip(row['reason'], 100)}[/]")


@approvals.command()
@click.argument("approval_id", type=ApprovalId)
@click.option("--reason", help="Why (kept with the decision).")
@url_option
def approve(approval_id: int, reason: str | None, url: str | None) -> None:
    """Let Angie make the call she asked about."""
    _decide(approval_id, "approve", reason, url)


@approvals.command()
@click.argument("approval_id", type=ApprovalId)
@click.option("--reason", help="Why (Angie is told).")
@url_option
def deny(approval_id: int, reason: str | None, url: str | None) -> None:
    """Refuse the call Angie asked about."""
    _decide(approval_id, "deny", reason, url)
