"""``angie status``: what Angie is doing, what waits for you, what comes next, and her servers."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import connect, url_option
from angie.cli.config import connection_line
from angie.cli.render import clip, status, task_table, when

__all__ = ("rules_summary", "status_command")

console = Console(highlight=False)


def _tasks(answer: dict[str, Any], key: str, title: str, empty: str) -> None:
    rows = answer.get(key) or []
    if rows:
        console.print(task_table(rows, title=f"{title} ({len(rows)})"))
    else:
        console.print(f"[dim]{empty}[/]")


def _events(rows: list[dict[str, Any]]) -> Table:
    table = Table("id", "type", "from", "status", "task", "when", title="Recent events")
    for event in rows:
        table.add_row(
            str(event.get("id", "")),
            escape(str(event.get("type") or "")),
            clip(event.get("source"), 30),
            status(event.get("status")),
            str(event.get("task_id") or "-"),
            when(event.get("created_at")),
        )
    return table


def _crons(rows: list[dict[str, Any]]) -> Table:
    table = Table("schedule", "name", "next run", "cron", title="Next scheduled runs")
    for tick in rows:
        table.add_row(
            str(tick.get("schedule_id", "")),
            clip(tick.get("name"), 40),
            when(tick.get("at")),
            escape(str(tick.get("cron") or "")),
        )
    return table


def _server_state(server: dict[str, Any]) -> tuple[str, str]:
    """What a server's row says in a few words (``not configured (ANGIE_HUE_USERNAME
    missing)``, ``down: exited with code 2``), and its colour."""
    health = str(server.get("health") or "unknown")
    if not server.get("enabled"):
        return "off", "dim"
    error = server.get("last_error")
    # A server being restarted after a failure is down until it is up again.
    if health == "unhealthy" or (health == "starting" and error):
        return (f"down: {error}" if error else "down"), "red"
    if health == "healthy" and server.get("configured") is False:
        missing = ", ".join(str(name) for name in server.get("missing_settings") or [])
        return (f"not configured ({missing} missing)" if missing else "not configured"), "yellow"
    styles = {"healthy": "green", "starting": "yellow"}
    return health, styles.get(health, "dim")


def _servers(rows: list[dict[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    for server in rows:
        text, style = _server_state(server)
        table.add_row(escape(str(server.get("name") or "")), f"[{style}]{clip(text, 160)}[/]")
    return table


def _today(spent: dict[str, Any]) -> str:
    tokens = int(spent.get("input_tokens") or 0) + int(spent.get("output_tokens") or 0)
    line = f"Today: {tokens:,} tokens, ${float(spent.get('cost_usd') or 0):.4f}"
    budget = spent.get("budget_usd")
    return line + (f" of a ${float(budget):.2f} daily budget" if budget is not None else "")


def _scheduler(lease: dict[str, Any]) -> str:
    holder = lease.get("holder")
    if not holder:
        return "[yellow]Scheduler: no daemon runs the crons now.[/]"
    return f"Scheduler: run by {escape(str(holder))}, renewed {when(lease.get('renewed_at'))}"


@click.command("status")
@url_option
def status_command(url: str | None) -> None:
    """Show today's tokens and cost, running, queued and waiting tasks, recent events, next
    crons and server health."""
    with connect(url) as api:
        answer: dict[str, Any] = api.get("/api/status")
    console.print(f"[bold]Angie[/] at {escape(api.url)}")
    if answer.get("demo"):
        console.print("[yellow]demo home: simulated devices[/] (`angie serve --demo`)")
    if answer.get("today"):
        console.print(escape(_today(answer["today"])))
    _tasks(answer, "running", "Running", "Nothing running.")
    _tasks(answer, "queued", "Queued", "Nothing queued.")
    waiting = answer.get("awaiting_approval") or []
    _tasks(answer, "awaiting_approval", "Waiting for your approval", "Nothing waits for you.")
    if waiting:
        console.print("[yellow]See them with `angie approvals list`.[/]")
    events = answer.get("recent_events") or []
    console.print(_events(events) if events else "[dim]No recent events.[/]")
    crons = answer.get("next_crons") or []
    console.print(_crons(crons) if crons else "[dim]Nothing scheduled.[/]")
    if answer.get("scheduler"):
        console.print(_scheduler(answer["scheduler"]))
    servers = answer.get("servers") or []
    if servers:
        console.print("[bold]MCP servers[/]")
        console.print(_servers(servers))
    else:
        console.print("[dim]No MCP servers installed.[/]")
    console.print(rules_summary(answer.get("approval_rules") or []))
    channels = answer.get("channels") or []
    if channels:
        console.print("[bold]Chat channels[/]")
        for channel in channels:
            console.print(_channel_line(channel))


def _channel_line(channel: dict[str, Any]) -> str:
    """One line per chat channel: connected or why not, and what waits or failed."""
    line = f"  {escape(str(channel.get('channel')))}: {connection_line(channel)}"
    if channel.get("last_message_at"):
        line += f", you wrote {when(channel['last_message_at'])}"
    if channel.get("waiting"):
        line += f", [yellow]{channel['waiting']} waiting to be sent[/]"
    if channel.get("failed_today"):
        error = escape(str(channel.get("last_error") or ""))
        line += f", [red]{channel['failed_today']} refused today[/] ({error})"
    return line


def rules_summary(rules: list[dict[str, Any]]) -> str:
    """The person's approval rules in two lines, grouped by the answer they came from."""
    if not rules:
        return "[dim]Your approval rules: none (the household's policy decides).[/]"
    lines = ["Your approval rules (angie setup, /api/me/approval-rules):"]
    for decision, title in (("allow", "without asking"), ("ask", "always asks first")):
        groups: dict[str, list[str]] = {}
        for rule in rules:
            if rule.get("decision") == decision:
                label = str(rule.get("phrase") or rule.get("pattern") or "")
                groups.setdefault(label, []).append(str(rule.get("pattern") or ""))
        if groups:
            shown = "; ".join(
                label if patterns == [label] else f"{label} ({', '.join(patterns)})"
                for label, patterns in groups.items()
            )
            lines.append(f"  {title}: {escape(shown)}")
    return "\n".join(lines)
