"""How the client commands show Angie's objects: times, statuses, tasks as table rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

__all__ = (
    "arguments",
    "clip",
    "items",
    "status",
    "task_summary",
    "task_table",
    "when",
)

_STATUS_STYLE = {
    "queued": "yellow",
    "running": "cyan",
    "awaiting_approval": "magenta",
    "pending": "magenta",
    "succeeded": "green",
    "approved": "green",
    "ok": "green",
    "failed": "red",
    "error": "red",
    "denied": "red",
    "timeout": "red",
    "cancelled": "dim",
    "expired": "dim",
}


def items(page: Any) -> list[dict[str, Any]]:
    """The rows of a ``Page`` answer (or of a bare list)."""
    rows = page.get("items", []) if isinstance(page, dict) else page
    return [row for row in rows or [] if isinstance(row, dict)]


def status(value: Any) -> str:
    """A status word in its colour, as markup."""
    text = str(value or "?")
    style = _STATUS_STYLE.get(text)
    shown = escape(text.replace("_", " "))
    return f"[{style}]{shown}[/]" if style else shown


def clip(text: Any, width: int = 60) -> str:
    """One line of at most ``width`` characters, escaped for rich markup."""
    line = " ".join(str(text or "").split())
    if len(line) > width:
        line = line[: width - 1] + "…"
    return escape(line)


def arguments(values: Any, width: int = 80) -> str:
    """Tool-call arguments as compact JSON on one line."""
    text = json.dumps(values or {}, ensure_ascii=False, separators=(", ", ": "), default=str)
    return clip(text, width)


def when(value: Any) -> str:
    """A timestamp from the API: relative when it is within a day, else the local date and time."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return escape(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the API speaks UTC
    seconds = (moment - datetime.now(UTC)).total_seconds()
    size = abs(seconds)
    if size < 45:
        return "now" if size < 5 else ("in a moment" if seconds > 0 else "just now")
    if size < 86_400:
        amount = f"{round(size / 60)} min" if size < 3600 else f"{size / 3600:.1f} h"
        return f"in {amount}" if seconds > 0 else f"{amount} ago"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def task_summary(task: dict[str, Any]) -> str:
    """What a task is about: its request, or what runs it."""
    given = task.get("input") if isinstance(task.get("input"), dict) else {}
    text = (given or {}).get("text") or (given or {}).get("instruction")
    if text:
        return clip(text)
    return clip(task.get("agent") or task.get("kind") or "")


def task_table(tasks: list[dict[str, Any]], title: str | None = None) -> Table:
    table = Table("id", "status", "kind", "agent", "request", "created", title=title)
    for task in tasks:
        request = task_summary(task)
        if task.get("error") and task.get("status") == "failed":
            request += f"\n[red]{clip(task['error'])}[/]"
        table.add_row(
            str(task.get("id", "?")),
            status(task.get("status")),
            escape(str(task.get("kind") or "")),
            escape(str(task.get("agent") or "-")),
            request,
            when(task.get("created_at")),
        )
    return table
