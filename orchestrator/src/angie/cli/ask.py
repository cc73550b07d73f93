"""``angie ask``: say something to Angie and watch her answer as it streams in."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from angie.cli.client import AngieClient, RequestFailed, ServerEvent, connect, url_option
from angie.cli.context import fail
from angie.cli.render import arguments, clip

__all__ = ("ask",)

console = Console(highlight=False)
# The chat fallback waits this long for a reply before saying where to look.
_CHAT_WAIT = 120.0
_FINISHED_OK = {"succeeded", "done", "awaiting_approval"}


class _Printer:
    """Writes the stream's events as they come: text as it is, tool calls as dim lines."""

    def __init__(self) -> None:
        # Text deltas since the last reply: a reply they already showed is not printed again.
        self.texts = 0
        self.mid_line = False
        self.status: str | None = None
        self.task_id: Any = None
        self.approvals: set[Any] = set()

    def _line(self, markup: str) -> None:
        if self.mid_line:
            console.out("")
            self.mid_line = False
        console.print(markup, soft_wrap=True)

    def event(self, event: ServerEvent) -> bool:
        """Show one event; True once the answer is complete."""
        data = event.data
        if event.name == "task":
            self.task_id = data.get("task_id")
        elif event.name == "text":
            delta = str(data.get("delta") or "")
            # An agent's own words (a sub-task's) are its working, not Angie's answer.
            if delta and "subtask_id" not in data:
                console.out(delta, end="", highlight=False)
                self.texts += 1
                self.mid_line = not delta.endswith("\n")
        elif event.name == "tool_call" and _handed_to(data):
            request = clip(str((data.get("arguments") or {}).get("request", "")), 120)
            self._line(f"[dim]→ asks {escape(_handed_to(data))}: {escape(request)}[/]")
        elif event.name == "tool_call":
            name = f"{data.get('server')}.{data.get('tool')}"
            self._line(f"[dim]→ {escape(name)} {arguments(data.get('arguments'))}[/]")
        elif event.name == "tool_result" and data.get("ok") is False:
            name = f"{data.get('server')}.{data.get('tool')}"
            self._line(f"[dim red]✗ {escape(name)}: {escape(str(data.get('error') or ''))}[/]")
        elif event.name == "approval":
            self.approval(data)
        elif event.name == "reply":
            if data.get("kind") == "approval_request":
                if data.get("approval_id") not in self.approvals:
                    self.approval(data)
            elif not self.texts:
                self._line(escape(str(data.get("text") or "")))
            self.texts = 0
        elif event.name == "error":
            self._line(f"[bold red]error:[/] {escape(str(data.get('message') or ''))}")
            self.status = "failed"
            return True
        elif event.name == "done":
            self.status = str(data.get("status") or "done")
            self.task_id = data.get("task_id", self.task_id)
            return True
        return False

    def approval(self, data: dict[str, Any]) -> None:
        approval = data.get("approval_id")
        self.approvals.add(approval)
        if data.get("tool"):
            name = f"{data.get('server')}.{data.get('tool')}"
            what = f"{escape(name)} {arguments(data.get('arguments'))}"
        else:
            what = clip(data.get("text"), 100)
        self._line(
            f"[bold yellow]⏸ Angie asks before {what}[/]\n"
            f"[yellow]  allow it:[/] angie approvals approve {approval}   "
            f"[yellow]refuse:[/] angie approvals deny {approval}\n"
            "[dim]  waiting for your decision (Ctrl-C stops watching; the task keeps waiting)[/]"
        )

    def finish(self) -> None:
        if self.mid_line:
            console.out("")
            self.mid_line = False


def _stream(api: AngieClient, body: dict[str, Any], timeout: float) -> str | None:
    """The final status, or None when Angie has no stream route (an older Angie)."""
    printer = _Printer()
    try:
        with (
            api.events("/api/chat/stream", body, expect=(404, 405), timeout=timeout) as events,
            console.status("Angie is thinking…") as spinner,
        ):
            for event in events:
                spinner.stop()
                if printer.event(event):
                    break
    except RequestFailed:
        return None
    except KeyboardInterrupt:
        printer.finish()
        where = f"; see `angie tasks show {printer.task_id}`" if printer.task_id else ""
        console.print(f"[dim]stopped watching: the task goes on{where}[/]")
        raise SystemExit(130) from None
    printer.finish()
    if printer.status is None:
        fail("the answer stopped before it was complete; see `angie tasks list`")
    if printer.status == "awaiting_approval":
        console.print("[dim]Angie goes on once you decide.[/]")
    elif printer.status not in _FINISHED_OK and printer.task_id is not None:
        console.print(f"[dim]see `angie tasks show {printer.task_id}`[/]")
    return printer.status


def _chat(api: AngieClient, body: dict[str, Any]) -> str:
    with console.status("Angie is thinking…"):
        answer = api.request(
            "POST", "/api/chat", body=body, params={"wait": _CHAT_WAIT}, timeout=_CHAT_WAIT + 10
        )
    status = str(answer.get("status") or "")
    reply = answer.get("reply")
    if reply:
        console.print(escape(str(reply)), soft_wrap=True)
    if status in ("queued", "running"):
        console.print(
            f"[dim]Angie is still working on it: `angie tasks show {answer.get('task_id')}`[/]"
        )
    return status


@click.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--thread", help="Carry on this conversation thread (default: your main one).")
@click.option(
    "--timeout",
    type=click.FloatRange(1, 86_400),
    default=600.0,
    show_default=True,
    help="Give up when Angie sends nothing for this many seconds.",
)
@url_option
def ask(text: tuple[str, ...], thread: str | None, timeout: float, url: str | None) -> None:
    """Ask Angie something; her answer is printed as she writes it."""
    message = " ".join(text).strip()
    if not message:
        fail('say something: angie ask "what\'s on today?"', code=2)
    body: dict[str, Any] = {"text": message}
    if thread:
        body["thread"] = thread
    with connect(url) as api:
        status = _stream(api, body, timeout)
        if status is None:
            status = _chat(api, body)
    if status not in _FINISHED_OK | {"queued", "running"}:
        raise SystemExit(1)


def _handed_to(call: dict[str, Any]) -> str:
    """Who Angie hands the request to, for one of her own ask_<agent> calls ("" otherwise)."""
    tool = str(call.get("tool") or "")
    if call.get("server") != "angie" or not tool.startswith("ask_"):
        return ""
    if tool.startswith("ask_team_"):
        return f"the {tool.removeprefix('ask_team_')} team"
    return f"the {tool.removeprefix('ask_')} agent"
