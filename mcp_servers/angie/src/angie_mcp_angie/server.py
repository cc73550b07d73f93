"""Angie's own manager server: one person's crons, tasks, workflows and events as tools.

It acts as the person whose personal API token it holds, so the API's own rules apply: the
token's scopes, ownership, validation. Tools that create or change crons or workflows carry
``NEVER_WHEN_TAINTED``: a run that read outside content never calls them, even with approval.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastmcp import FastMCP
from pydantic import Field

from angie_mcp_angie.client import AngieClient
from angie_mcp_angie.models import MadeCron
from angie_mcp_angie.settings import AngieSettings
from angie_mcp_core.server import (
    DESTRUCTIVE,
    IDEMPOTENT_WRITE,
    NEVER_WHEN_TAINTED,
    READ_ONLY,
    WRITE,
    create_server,
)

__all__ = ("build", "preview")

INSTRUCTIONS = """\
Angie's own records of one person: crons (schedules that run a request at set times), tasks \
(work done or doing), workflows (ordered steps across agents) and events (what happened, what \
comes next). Ids come from the list tools. Cron expressions have five fields (minute hour \
day-of-month month day-of-week) in the person's timezone unless one is given. If a tool says \
the token lacks a scope or is not valid, tell the person to reconnect the server."""

Id = Annotated[int, Field(ge=1, le=2**31 - 1, description="The id, from the list tool.")]
Limit = Annotated[int, Field(ge=1, le=100, description="At most this many, newest first.")]
_DAYS = {"1-5": "every weekday", "0,6": "on weekends", "*": "every day"}


def preview(schedule: dict[str, Any]) -> str:
    """A schedule in words: its name, when it runs and its next run (the API's own time)."""
    cron = str(schedule.get("cron", ""))
    fields = cron.split()
    when = f"on the cron {cron!r}"
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit():
        minute, hour, dom, month, dow = fields
        days = _DAYS.get(dow) if dom == "*" and month == "*" else None
        if days is not None:
            when = f"{days} at {int(hour):02d}:{int(minute):02d}"
    text = f"{schedule.get('name')!r} runs {when} ({schedule.get('timezone')})"
    if schedule.get("instruction"):
        text += f": {schedule['instruction']}"
    nxt = schedule.get("next_run_at")
    text += f". Next run: {nxt} UTC." if nxt else ". It is paused."
    return text


def build(settings: AngieSettings) -> FastMCP:
    """The server; it starts and lists its tools before it has a URL or a token."""
    angie = AngieClient(settings)

    async def probe() -> str:
        health = await angie.get("/health")
        return f"Angie {health.get('version', '?')}"

    @asynccontextmanager
    async def lifespan(_: FastMCP) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await angie.aclose()

    mcp = create_server(
        "angie", settings, instructions=INSTRUCTIONS, probe=probe, lifespan=lifespan
    )

    # -- crons --------------------------------------------------------------------------------

    @mcp.tool(annotations=READ_ONLY)
    async def cron_list(limit: Limit = 50) -> dict[str, Any]:
        """List the person's crons (schedules) by name, with cron, timezone, what they run and
        their next run; ``enabled`` false means paused. Look here before adding one."""
        return dict(await angie.get("/schedules", limit=limit))

    @mcp.tool(annotations=WRITE, meta=NEVER_WHEN_TAINTED)
    async def cron_create(
        name: Annotated[str, Field(min_length=1, max_length=120, description="A short name.")],
        cron: Annotated[
            str,
            Field(
                min_length=1,
                max_length=120,
                description="Five fields, e.g. '0 7 * * 1-5' for weekdays at 07:00.",
            ),
        ],
        instruction: Annotated[
            str,
            Field(min_length=1, max_length=20_000, description="The request to run, standalone."),
        ],
        timezone: Annotated[
            str | None, Field(max_length=64, description="IANA name; default: the person's.")
        ] = None,
    ) -> MadeCron:
        """Create a cron that runs ``instruction`` at the times of ``cron`` and return it with a
        preview in words (when it runs and its next run) to repeat back to the person."""
        body = {"name": name, "cron": cron, "instruction": instruction, "timezone": timezone}
        made = await angie.post("/schedules", body)
        return MadeCron(preview=preview(made), schedule=made)

    @mcp.tool(annotations=IDEMPOTENT_WRITE, meta=NEVER_WHEN_TAINTED)
    async def cron_pause(cron_id: Id) -> dict[str, Any]:
        """Pause a cron: it keeps its settings but does not run until resumed."""
        return dict(await angie.post(f"/schedules/{cron_id}/pause"))

    @mcp.tool(annotations=IDEMPOTENT_WRITE, meta=NEVER_WHEN_TAINTED)
    async def cron_resume(cron_id: Id) -> dict[str, Any]:
        """Resume a paused cron; the answer gives its next run."""
        return dict(await angie.post(f"/schedules/{cron_id}/resume"))

    @mcp.tool(annotations=DESTRUCTIVE, meta=NEVER_WHEN_TAINTED)
    async def cron_delete(cron_id: Id) -> str:
        """Delete a cron for good (pausing keeps it); its past tasks stay."""
        await angie.delete(f"/schedules/{cron_id}")
        return f"Deleted cron {cron_id}."

    # -- tasks --------------------------------------------------------------------------------

    @mcp.tool(annotations=READ_ONLY)
    async def task_list(
        status: Annotated[
            str | None,
            Field(
                pattern="^(queued|running|awaiting_approval|succeeded|failed|cancelled)$",
                description="Only tasks in this state.",
            ),
        ] = None,
        limit: Limit = 20,
    ) -> dict[str, Any]:
        """List the person's tasks, newest first, with status, agent, result or error."""
        return dict(await angie.get("/tasks", status=status, limit=limit))

    @mcp.tool(annotations=READ_ONLY)
    async def task_failed_today(limit: Limit = 20) -> dict[str, Any]:
        """List the tasks that failed in the last 24 hours, newest first, with their errors:
        the answer to "what failed today?"."""
        since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        return dict(await angie.get("/tasks", status="failed", since=since, limit=limit))

    @mcp.tool(annotations=READ_ONLY)
    async def task_show(task_id: Id) -> dict[str, Any]:
        """One task in full: its input, status, result or error, attempts and times."""
        return dict(await angie.get(f"/tasks/{task_id}"))

    @mcp.tool(annotations=WRITE)
    async def task_retry(task_id: Id) -> dict[str, Any]:
        """Run a failed or cancelled task again; it repeats whatever the task does."""
        return dict(await angie.post(f"/tasks/{task_id}/retry"))

    @mcp.tool(annotations=DESTRUCTIVE)
    async def task_cancel(task_id: Id) -> dict[str, Any]:
        """Cancel a queued, running or waiting task; what it already did stays done."""
        return dict(await angie.post(f"/tasks/{task_id}/cancel"))

    # -- workflows ----------------------------------------------------------------------------

    @mcp.tool(annotations=READ_ONLY)
    async def workflow_list(limit: Limit = 50) -> dict[str, Any]:
        """List the person's workflows by name, with whether each is enabled."""
        return dict(await angie.get("/workflows", limit=limit))

    @mcp.tool(annotations=READ_ONLY)
    async def workflow_show(workflow_id: Id) -> dict[str, Any]:
        """One workflow with its steps in order: who runs each and its instruction."""
        return dict(await angie.get(f"/workflows/{workflow_id}"))

    @mcp.tool(annotations=WRITE, meta=NEVER_WHEN_TAINTED)
    async def workflow_create(
        name: Annotated[str, Field(min_length=1, max_length=120)],
        steps: Annotated[
            list[dict[str, Any]],
            Field(
                min_length=1,
                max_length=50,
                description="In order; each {name, instruction, agent_id or team_id}. Later "
                "steps read earlier outputs as {{ steps['<name>'] }}.",
            ),
        ],
        description: Annotated[str, Field(max_length=2000)] = "",
    ) -> dict[str, Any]:
        """Create a workflow: ordered steps, each run by one agent or team."""
        body = {"name": name, "description": description, "steps": steps}
        return dict(await angie.post("/workflows", body))

    @mcp.tool(annotations=WRITE)
    async def workflow_run(
        workflow_id: Id,
        input: Annotated[
            dict[str, Any] | None, Field(description="Values the steps read as {{ input }}.")
        ] = None,
    ) -> dict[str, Any]:
        """Start a run of a workflow now; the answer names the task that runs it."""
        return dict(await angie.post(f"/workflows/{workflow_id}/run", {"input": input or {}}))

    # -- events -------------------------------------------------------------------------------

    @mcp.tool(annotations=READ_ONLY)
    async def event_list(limit: Limit = 20) -> dict[str, Any]:
        """List the person's recent events (messages, cron runs, webhooks), newest first."""
        return dict(await angie.get("/events", limit=limit))

    @mcp.tool(annotations=READ_ONLY)
    async def event_upcoming(
        days: Annotated[int, Field(ge=1, le=7, description="How many days ahead.")] = 7,
    ) -> dict[str, Any]:
        """The coming cron runs in the next days (a week by default), soonest first."""
        return dict(await angie.get("/events/upcoming", hours=days * 24))

    return mcp
