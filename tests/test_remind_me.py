""" "Remind me every weekday at 7 to check the garden", end to end: Angie hands it to her crons
agent, which asks Angie's own manager server (the real ``angie`` MCP server, talking to
Angie's REST API on a real port with the person's scoped API token) to create the cron. A cron
is a standing side effect, so it waits for the person; approved, it exists with its next run
on a weekday at 07:00. Through the real API with the scripted model."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from api_support import TEST_HOST, ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain
from fakes.storage_servers import free_port

from angie.db.models import Task, TaskStatus
from angie.mcp.registry import builtin_specs

DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


def _remind(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    if "angie_cron_create" not in tools:
        return None
    return "angie_cron_create", {
        "name": "Garden",
        "cron": "0 7 * * 1-5",
        "instruction": "Remind me to check the garden.",
    }


async def _settled(api: ApiHarness, task_id: int, *, waiting: bool = False) -> Task:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        task = await api.angie.services.tasks.require(task_id)
        if task.status in DONE or (waiting and task.status is TaskStatus.AWAITING_APPROVAL):
            return task
        assert asyncio.get_running_loop().time() < deadline, f"task {task_id} still {task.status}"
        await asyncio.sleep(0.05)


async def test_remind_me_every_weekday_at_7_creates_the_cron_once_approved(
    sqlite_url: str, data_dir: Path
) -> None:
    # The person and the token Angie's manager server acts with (crons only).
    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain())) as first:
        ann = await first.signup("ann")
        made = await first.client.post(
            "/api/me/tokens",
            json={"name": "angie server", "scopes": ["crons:read", "crons:write"]},
            headers=ann.headers,
        )
        assert made.status_code == 201, made.text
        api_token = made.json()["token"]

    port = free_port()
    angie = make_api_angie(
        sqlite_url,
        data_dir,
        Brain(plans={"remind me": _remind}),
        api=True,
        port=port,
        specs=builtin_specs(["angie"]),
        environ={
            "ANGIE_ANGIE_URL": f"http://127.0.0.1:{port}",
            "ANGIE_ANGIE_API_TOKEN": api_token,
        },
        allowed_hosts=[TEST_HOST, "127.0.0.1"],
    )
    async with api_harness(angie) as api:
        sent = await api.client.post(
            "/api/events",
            json={"instruction": "crons: remind me every weekday at 7 to check the garden"},
            headers=ann.headers,
        )
        assert sent.status_code == 202, sent.text
        task_id = int(sent.json()["task_id"])

        task = await _settled(api, task_id, waiting=True)
        assert task.status is TaskStatus.AWAITING_APPROVAL, task.error
        listed = await api.client.get("/api/schedules", headers=ann.headers)
        assert listed.json()["items"] == []  # nothing scheduled before the person says so
        [approval] = (await api.client.get("/api/approvals", headers=ann.headers)).json()["items"]
        assert (approval["server"], approval["tool"]) == ("angie", "cron_create")
        assert approval["arguments"]["cron"] == "0 7 * * 1-5"

        decided = await api.client.post(
            f"/api/approvals/{approval['id']}/approve", json={}, headers=ann.headers
        )
        assert decided.status_code == 200, decided.text
        task = await _settled(api, task_id)
        assert task.status is TaskStatus.SUCCEEDED, task.error

        [cron] = (await api.client.get("/api/schedules", headers=ann.headers)).json()["items"]
        assert cron["instruction"] == "Remind me to check the garden."
        assert (cron["cron"], cron["enabled"]) == ("0 7 * * 1-5", True)
        # At 07:00 on a weekday where the person lives.
        upcoming = datetime.fromisoformat(cron["next_run_at"]).astimezone(
            ZoneInfo(cron["timezone"])
        )
        assert upcoming.weekday() < 5
        assert (upcoming.hour, upcoming.minute) == (7, 0)
