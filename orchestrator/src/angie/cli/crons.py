"""``angie crons``: Angie's schedules (cron expressions that wake her with an instruction)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import AngieClient, connect, url_option
from angie.cli.context import fail
from angie.cli.render import clip, items, when
from angie.onboarding import AnswerError, check_timezone

__all__ = ("crons",)

console = Console(highlight=False)


@click.group()
def crons() -> None:
    """Schedules: what Angie does at set times (list, add, pause, resume, rm)."""


def _agents(api: AngieClient) -> dict[int, str]:
    return {
        int(a["id"]): str(a.get("name"))
        for a in items(api.get("/api/agents", params={"limit": 200}))
    }


@crons.command("list")
@url_option
def list_crons(url: str | None) -> None:
    """Your schedules and when each runs next."""
    with connect(url) as api:
        rows = items(api.get("/api/schedules", params={"limit": 200}))
        agents = _agents(api) if any(row.get("agent_id") for row in rows) else {}
    if not rows:
        console.print("[dim]No schedules. Add one with `angie crons add NAME CRON`.[/]")
        return
    table = Table("id", "name", "cron", "timezone", "state", "next run", "agent", "instruction")
    for row in rows:
        agent_id = row.get("agent_id")
        table.add_row(
            str(row.get("id")),
            clip(row.get("name"), 30),
            escape(str(row.get("cron"))),
            escape(str(row.get("timezone"))),
            "[green]on[/]" if row.get("enabled") else "[yellow]paused[/]",
            when(row.get("next_run_at")) if row.get("enabled") else "-",
            escape(agents.get(int(agent_id), str(agent_id))) if agent_id else "-",
            clip(row.get("instruction"), 50),
        )
    console.print(table)


def _agent_id(api: AngieClient, name: str) -> int:
    """The id of the agent called ``name`` (exactly, or the only one whose name contains it)."""
    found = items(api.get("/api/agents", params={"q": name, "limit": 50}))
    exact = [a for a in found if str(a.get("name", "")).lower() == name.lower()]
    if not found:
        fail(f"there is no agent named {name!r}")
    if len(exact) != 1 and len(found) != 1:
        names = ", ".join(sorted(str(a.get("name")) for a in found))
        fail(f"{name!r} could be any of {names}; give the full name")
    return int((exact if len(exact) == 1 else found)[0]["id"])


def _show(schedule: dict[str, Any], verb: str) -> None:
    when_next = when(schedule.get("next_run_at")) if schedule.get("enabled") else "paused"
    console.print(
        f"[green]✓[/] schedule {schedule.get('id')} {clip(schedule.get('name'), 40)} {verb}"
        f" [dim](next run: {when_next})[/]"
    )


@crons.command("add")
@click.argument("name")
@click.argument("cron")
@click.option("--tz", "timezone", help="An IANA timezone (default: yours, as setup saved it).")
@click.option("--instruction", default="", help="What Angie should do when it fires.")
@click.option("--agent", help="The agent that does it (by name); default: Angie herself.")
@url_option
def add(
    name: str,
    cron: str,
    timezone: str | None,
    instruction: str,
    agent: str | None,
    url: str | None,
) -> None:
    """Add a schedule NAME firing at CRON (five fields, e.g. "0 7 * * 1-5")."""
    body: dict[str, Any] = {"name": name, "cron": cron, "instruction": instruction}
    if timezone is not None:
        try:
            body["timezone"] = check_timezone(timezone)
        except AnswerError as err:
            fail(f"--tz: {err}", code=2)
    with connect(url) as api:
        if agent:
            body["agent_id"] = _agent_id(api, agent)
        schedule = api.post("/api/schedules", body)
    _show(schedule, "added")


def _schedule_id(api: AngieClient, schedule: str) -> int:
    """A schedule given by its id or by its name (yours are unique by name)."""
    if schedule.isdigit():
        return int(schedule)
    rows = items(api.get("/api/schedules", params={"limit": 200}))
    found = next((int(row["id"]) for row in rows if row.get("name") == schedule), None)
    if found is None:
        fail(f"you have no schedule named {schedule!r}")
    return found


@crons.command("rm")
@click.argument("schedule")
@url_option
def remove(schedule: str, url: str | None) -> None:
    """Delete a schedule, given by its id or its name."""
    with connect(url) as api:
        schedule_id = _schedule_id(api, schedule)
        api.delete(f"/api/schedules/{schedule_id}")
    console.print(f"[green]✓[/] schedule {schedule} removed")


def _switch(action: str, done: str, help: str) -> click.Command:
    """``angie crons pause|resume ID|NAME``: post the action and show where the schedule
    stands."""

    @crons.command(action, help=help)
    @click.argument("schedule")
    @url_option
    def switch(schedule: str, url: str | None) -> None:
        with connect(url) as api:
            shown = api.post(f"/api/schedules/{_schedule_id(api, schedule)}/{action}")
        _show(shown, done)

    return switch


pause = _switch(
    "pause", "paused", "Stop a schedule (its id or name) from firing until it is resumed."
)
resume = _switch("resume", "resumed", "Let a paused schedule (its id or name) fire again.")
