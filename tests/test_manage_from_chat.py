"""Managing Angie's own work from a conversation: "what failed today?", "retry it", "make a
workflow that …" and "what's coming up this week?". Angie hands each to her tasks, workflows or
events agent, which works through her own manager server (the real ``angie`` MCP server, talking
to Angie's REST API on a real port with the person's scoped API token). What changes something
waits for the person; what only reads does not. Through the real API with the scripted model."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import DONE, TEST_HOST, Account, ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain, Plan
from fakes.storage_servers import free_port

from angie.db.models import ChannelKind, Task, TaskKind, TaskStatus
from angie.mcp.registry import builtin_specs

SCOPES = [
    "tasks:read",
    "tasks:write",
    "workflows:read",
    "workflows:write",
    "crons:read",
    "crons:write",
    "events:read",
]


def _failed_today(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    return ("angie_task_failed_today", {}) if "angie_task_failed_today" in tools else None


def _retry(request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    # The model reads which task "it" is from the conversation; the script from the request.
    found = re.search(r"task (\d+)", request)
    if "angie_task_retry" not in tools or found is None:
        return None
    return "angie_task_retry", {"task_id": int(found[1])}


def _workflow(request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    found = re.search(r"agent (\d+)", request)
    if "angie_workflow_create" not in tools or found is None:
        return None
    agent = int(found[1])
    return "angie_workflow_create", {
        "name": "Evening lights",
        "description": "Lamp on at dusk, then tell me.",
        "steps": [
            {"name": "lamp", "instruction": "Turn on the floor lamp.", "agent_id": agent},
            {
                "name": "tell",
                "instruction": "Tell me what happened: {{ steps['lamp'] }}",
                "agent_id": agent,
            },
        ],
    }


def _upcoming(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    return ("angie_event_upcoming", {"days": 7}) if "angie_event_upcoming" in tools else None


BRAIN_PLANS: dict[str, Plan] = {
    "failed today": _failed_today,
    "retry it": _retry,
    "make a workflow": _workflow,
    "coming up": _upcoming,
}


@pytest.fixture
async def managed(sqlite_url: str, data_dir: Path) -> AsyncIterator[tuple[ApiHarness, Account]]:
    """Angie with her manager server, holding a token of the person's with the scopes it
    needs; the person signed in."""
    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain())) as first:
        ann = await first.signup("ann")
        made = await first.client.post(
            "/api/me/tokens",
            json={"name": "angie server", "scopes": SCOPES},
            headers=ann.headers,
        )
        assert made.status_code == 201, made.text
        api_token = made.json()["token"]
    port = free_port()
    angie = make_api_angie(
        sqlite_url,
        data_dir,
        Brain(plans=BRAIN_PLANS),
        api=True,
        port=port,
        specs=builtin_specs(["angie"]),
        environ={"ANGIE_ANGIE_URL": f"http://127.0.0.1:{port}", "ANGIE_ANGIE_API_TOKEN": api_token},
        allowed_hosts=[TEST_HOST, "127.0.0.1"],
    )
    async with api_harness(angie) as api:
        api.accounts.append(ann)
        yield api, ann


async def _ask(api: ApiHarness, who: Account, text: str) -> Task:
    """Say something to Angie; the task, once it has ended or waits for the person."""
    sent = await api.client.post("/api/events", json={"instruction": text}, headers=who.headers)
    assert sent.status_code == 202, sent.text
    return await api.settled(int(sent.json()["task_id"]))


async def _approve_all(api: ApiHarness, who: Account, task: Task) -> Task:
    """Approve what the task waits for, once; the task as it then ends."""
    pending = (await api.client.get("/api/approvals", headers=who.headers)).json()["items"]
    assert pending, f"task {task.id} waits, but for nothing"
    for approval in pending:
        decided = await api.client.post(
            f"/api/approvals/{approval['id']}/approve", json={}, headers=who.headers
        )
        assert decided.status_code == 200, decided.text
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        task = await api.angie.services.tasks.require(task.id)
        if task.status in DONE:
            return task
        assert asyncio.get_running_loop().time() < deadline, f"task {task.id} still {task.status}"
        await asyncio.sleep(0.05)


def _answer(task: Task) -> str:
    assert task.status is TaskStatus.SUCCEEDED, task.error
    return str((task.result or {}).get("text"))


async def test_what_failed_today_then_retry_it(managed: tuple[ApiHarness, Account]) -> None:
    api, ann = managed
    tasks = api.angie.services.tasks
    # This morning's failure: Angie could not answer a message.
    failed, _ = await tasks.submit(
        TaskKind.CHAT, user_id=ann.id, input={"text": "hello there"}, channel=ChannelKind.WEB
    )
    assert await tasks.fail(failed.id, "the language model did not answer")

    told = await _ask(api, ann, "tasks: what failed today?")
    answer = _answer(told)
    assert f'"id": {failed.id}' in answer or f'"id":{failed.id}' in answer, answer
    assert "the language model did not answer" in answer
    pending = (await api.client.get("/api/approvals", headers=ann.headers)).json()["items"]
    assert pending == []  # reading asks nobody

    # A retry repeats whatever the task does: it waits for the person.
    asked = await _ask(api, ann, f"tasks: retry it (task {failed.id})")
    assert asked.status is TaskStatus.AWAITING_APPROVAL, asked.error
    assert (await tasks.require(failed.id)).status is TaskStatus.FAILED
    [approval] = (await api.client.get("/api/approvals", headers=ann.headers)).json()["items"]
    assert (approval["server"], approval["tool"]) == ("angie", "task_retry")
    assert approval["arguments"] == {"task_id": failed.id}
    asked = await _approve_all(api, ann, asked)
    assert asked.status is TaskStatus.SUCCEEDED, asked.error
    again = await api.settled(failed.id)
    assert again.status is TaskStatus.SUCCEEDED, again.error
    assert (again.result or {}).get("text") == "Angie heard: hello there"


async def test_make_a_workflow_then_whats_coming_up(managed: tuple[ApiHarness, Account]) -> None:
    api, ann = managed
    agents = (await api.client.get("/api/agents", headers=ann.headers)).json()["items"]
    hue = next(a["id"] for a in agents if a["name"] == "hue")

    asked = await _ask(
        api, ann, f"workflows: make a workflow that turns on the floor lamp (agent {hue})"
    )
    assert asked.status is TaskStatus.AWAITING_APPROVAL, asked.error
    listed = (await api.client.get("/api/workflows", headers=ann.headers)).json()["items"]
    assert listed == []  # nothing made before the person says so
    [approval] = (await api.client.get("/api/approvals", headers=ann.headers)).json()["items"]
    assert (approval["server"], approval["tool"]) == ("angie", "workflow_create")
    assert [s["name"] for s in approval["arguments"]["steps"]] == ["lamp", "tell"]
    done = await _approve_all(api, ann, asked)
    assert done.status is TaskStatus.SUCCEEDED, done.error
    [workflow] = (await api.client.get("/api/workflows", headers=ann.headers)).json()["items"]
    assert workflow["name"] == "Evening lights"
    shown = (await api.client.get(f"/api/workflows/{workflow['id']}", headers=ann.headers)).json()
    assert [s["agent_id"] for s in shown["steps"]] == [hue, hue]

    # Run it every evening; then ask what is coming up.
    made = await api.client.post(
        "/api/schedules",
        json={
            "name": "Dusk",
            "cron": "30 18 * * *",
            "timezone": "Europe/Paris",
            "workflow_id": workflow["id"],
        },
        headers=ann.headers,
    )
    assert made.status_code == 201, made.text
    told = await _ask(api, ann, "events: what's coming up this week?")
    answer = _answer(told)
    assert "Dusk" in answer, answer
    assert "18:30" in answer, answer
