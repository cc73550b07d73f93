"""``angie tasks``: list Angie's tasks, look into one (with its tool calls), cancel or retry it."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from angie.cli.client import connect, url_option
from angie.cli.render import arguments, clip, items, status, task_table, when

__all__ = ("tasks",)

console = Console(highlight=False)

STATUSES = ("queued", "running", "awaiting_approval", "succeeded", "failed", "cancelled")
TaskId = click.IntRange(1, 2**31 - 1)


@click.group()
def tasks() -> None:
    """Angie's tasks: list them, show one, cancel or retry."""


@tasks.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only tasks in this state (repeatable).",
)
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@url_option
def list_tasks(statuses: tuple[str, ...], limit: int, url: str | None) -> None:
    """Your tasks, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if statuses:
        params["status"] = list(statuses)
    with connect(url) as api:
        page = api.get("/api/tasks", params=params)
    rows = items(page)
    if not rows:
        console.print("[dim]No tasks.[/]")
        return
    console.print(task_table(rows))
    total = page.get("total", len(rows)) if isinstance(page, dict) else len(rows)
    if total > len(rows):
        console.print(f"[dim]{len(rows)} of {total}; more with --limit[/]")


def _value(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _calls(rows: list[dict[str, Any]]) -> Table:
    table = Table("tool", "outcome", "arguments", "took", "when", title="Tool calls")
    for call in rows:
        outcome = status(call.get("outcome"))
        if call.get("error"):
            outcome += f"\n[red]{clip(call['error'], 50)}[/]"
        took = call.get("duration_ms")
        table.add_row(
            escape(f"{call.get('server')}.{call.get('tool')}"),
            outcome,
            arguments(call.get("arguments"), 60),
            f"{took} ms" if took is not None else "-",
            when(call.get("created_at")),
        )
    return table


def _approvals(rows: list[dict[str, Any]]) -> Table:
    table = Table("approval", "tool", "status", "arguments", "reason", title="Approvals")
    for row in rows:
        table.add_row(
            str(row.get("id")),
            escape(f"{row.get('server')}.{row.get('tool')}"),
            status(row.get("status")),
            arguments(row.get("arguments"), 50),
            clip(row.get("reason") or "", 40),
        )
    return table


@tasks.command("show")
@click.argument("task_id", type=TaskId)
@url_option
def show(task_id: int, url: str | None) -> None:
    """One task: what it was asked, what it did (tool calls, sub-tasks) and how it ended."""
    with connect(url) as api:
        task: dict[str, Any] = api.get(f"/api/tasks/{task_id}")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("status", status(task.get("status")))
    facts.add_row("kind", escape(str(task.get("kind"))))
    if task.get("agent"):
        facts.add_row("agent", escape(str(task["agent"])))
    if task.get("parent_id"):
        facts.add_row("part of", f"task {task['parent_id']}")
    facts.add_row("attempts", f"{task.get('attempts')} of {task.get('max_attempts')}")
    facts.add_row("created", when(task.get("created_at")))
    if task.get("finished_at"):
        facts.add_row("finished", when(task.get("finished_at")))
    given = task.get("input") or {}
    text = given.get("text") if isinstance(given, dict) else None
    parts: list[Any] = [facts]
    if text:
        parts += ["", "[bold]Request[/]", escape(str(text))]
    if task.get("result") is not None:
        parts += ["", "[bold]Result[/]", _value(task["result"])]
    if task.get("error"):
        parts += ["", "[bold red]Error[/]", f"[red]{escape(str(task['error']))}[/]"]
    console.print(Panel(Group(*parts), title=f"task {task_id}", title_align="left"))
    calls = task.get("tool_calls") or []
    console.print(_calls(calls) if calls else "[dim]No tool calls.[/]")
    children = task.get("children") or []
    if children:
        console.print(task_table(children, title="Tasks it started"))
    approvals = task.get("approvals") or []
    if approvals:
        console.print(_approvals(approvals))
    for plan in task.get("plans") or []:
        console.print(_plan(plan))


_STEP_STYLES = {"succeeded": "green", "failed": "red", "running": "yellow", "waiting": "dim"}


def _plan(plan: dict[str, Any]) -> Table:
    """A plan's steps in the order they run, each with who does it and how it went."""
    table = Table(
        title=f"Plan {plan.get('id')} ({plan.get('status')}): {escape(str(plan.get('goal')))}",
        title_justify="left",
    )
    for column in ("step", "who", "after", "status", "task", "request"):
        table.add_column(column, overflow="fold")
    for step in plan.get("steps") or []:
        state = str(step.get("status"))
        style = _STEP_STYLES.get(state, "")
        table.add_row(
            escape(str(step.get("name"))),
            escape(str(step.get("ask"))),
            escape(", ".join(step.get("after") or [])) or "-",
            f"[{style}]{state}[/]" if style else escape(state),
            str(step.get("task_id") or "-"),
            escape(str(step.get("request"))),
        )
    return table


def _change(action: str, then: str, help: str) -> click.Command:
    """``angie tasks cancel|retry ID``: post the action and show the task's status ``then``."""

    @tasks.command(action, help=help)
    @click.argument("task_id", type=TaskId)
    @url_option
    def change(task_id: int, url: str | None) -> None:
        with connect(url) as api:
            task = api.post(f"/api/tasks/{task_id}/{action}")
        console.print(f"[green]✓[/] task {task_id} is {status(task.get('status'))}{then}")

    return change


cancel = _change("cancel", "", "Cancel a task that has not finished (and the tasks it started).")
retry = _change("retry", " again", "Run a failed or cancelled task again.")
