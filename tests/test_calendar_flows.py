"""The seeded calendar agent at work: "find an hour with Sam next week and send an invite".

Angie asks the calendar agent; it asks Google Calendar (the real gcal server, against the fake
Calendar API) when both calendars are free, then proposes the event with Sam as a guest. What
it read came from outside (Sam's busy times, other people's invitations), so the invitation it
would send waits for the person; approved, Google gets the event and mails the invitation.
Through the real API with the scripted model."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from angie_mcp_gcal.scopes import EVENTS, READONLY
from angie_mcp_gcal.testing import CLIENT_ID, CLIENT_SECRET, FakeGoogleCalendar
from api_support import ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain

from angie.db.models import Task, TaskStatus
from angie.mcp.registry import builtin_specs
from angie_mcp_core.tokens import TokenFile

DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}
PARIS = ZoneInfo("Europe/Paris")
SAM = "sam@example.com"


def _next_monday() -> datetime:
    today = datetime.now(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 - today.weekday())


def _find(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    if "gcal_find_free_slots" not in tools:
        return None
    monday = _next_monday()
    return "gcal_find_free_slots", {
        "start": monday.isoformat(),
        "end": (monday + timedelta(days=5)).isoformat(),
        "duration_minutes": 60,
        "calendars": ["primary", SAM],
        "limit": 3,
    }


def _fenced_json(text: str) -> dict[str, Any]:
    inside = re.search(r"<untrusted-data[^>]*>(.*)</untrusted-data>", text, re.S)
    assert inside is not None, f"not fenced: {text[:200]}"
    found: dict[str, Any] = json.loads(inside[1])
    return found


def _invite(
    _request: str, tools: list[str], returns: list[str]
) -> tuple[str, dict[str, Any]] | None:
    if "gcal_create_event" not in tools or "slots" not in returns[-1]:
        return None
    first = _fenced_json(returns[-1])["slots"][0]
    start = datetime.fromisoformat(first["start"])
    return "gcal_create_event", {
        "title": "Catch-up with Sam",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "guests": [SAM],
    }


@pytest.fixture
def calendar() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        fake.add_calendar(SAM, "Sam", "Europe/Paris")
        monday = _next_monday()
        # Sam is busy all Monday morning; Angie's person has a stand-up at 9 every day.
        fake.add_event(
            SAM,
            summary="Workshop",
            start={"dateTime": (monday + timedelta(hours=9)).isoformat()},
            end={"dateTime": (monday + timedelta(hours=12)).isoformat()},
        )
        fake.add_event(
            summary="Stand-up",
            start={"dateTime": (monday + timedelta(hours=12)).isoformat()},
            end={"dateTime": (monday + timedelta(hours=12, minutes=30)).isoformat()},
        )
        yield fake


@pytest.fixture
async def api(
    sqlite_url: str, data_dir: Path, calendar: FakeGoogleCalendar
) -> AsyncIterator[ApiHarness]:
    token_file = data_dir / "gcal-tokens.enc"
    TokenFile(token_file).save(calendar.sign_in([READONLY, EVENTS]))
    brain = Brain(plans={"hour with": _find}, followups={"hour with": _invite})
    angie = make_api_angie(
        sqlite_url,
        data_dir,
        brain,
        specs=builtin_specs(["gcal"]),
        environ={
            "ANGIE_GCAL_CLIENT_ID": CLIENT_ID,
            "ANGIE_GCAL_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_GCAL_API_URL": calendar.api_url,
            "ANGIE_GCAL_TOKEN_URI": calendar.token_uri,
            "ANGIE_GCAL_AUTH_URI": calendar.auth_uri,
            "ANGIE_GCAL_TOKEN_FILE": str(token_file),
            "ANGIE_GCAL_WRITES": "true",
        },
    )
    async with api_harness(angie) as harness:
        yield harness


async def _settled(api: ApiHarness, task_id: int, *, waiting: bool = False) -> Task:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        task = await api.angie.services.tasks.require(task_id)
        if task.status in DONE or (waiting and task.status is TaskStatus.AWAITING_APPROVAL):
            return task
        assert asyncio.get_running_loop().time() < deadline, f"task {task_id} still {task.status}"
        await asyncio.sleep(0.05)


def _events(calendar: FakeGoogleCalendar, title: str) -> list[dict[str, Any]]:
    return [e for e in calendar.events[calendar.me].values() if e.get("summary") == title]


async def test_an_hour_with_sam_is_found_and_the_invitation_waits_for_the_person(
    api: ApiHarness, calendar: FakeGoogleCalendar
) -> None:
    ann = await api.signup("ann")
    sent = await api.client.post(
        "/api/events",
        json={"instruction": "calendar: find an hour with Sam next week and send an invite"},
        headers=ann.headers,
    )
    assert sent.status_code == 202, sent.text
    task_id = int(sent.json()["task_id"])

    task = await _settled(api, task_id, waiting=True)
    assert task.status is TaskStatus.AWAITING_APPROVAL, task.error
    assert _events(calendar, "Catch-up with Sam") == []  # nothing sent before the person says
    [approval] = (await api.client.get("/api/approvals", headers=ann.headers)).json()["items"]
    assert (approval["server"], approval["tool"]) == ("gcal", "create_event")
    proposed = datetime.fromisoformat(approval["arguments"]["start"])
    # The slot is one both are free in: after Sam's Monday-morning workshop and the stand-up.
    monday = _next_monday()
    assert proposed >= monday + timedelta(hours=12, minutes=30), proposed
    assert approval["arguments"]["guests"] == [SAM]

    decided = await api.client.post(
        f"/api/approvals/{approval['id']}/approve", json={}, headers=ann.headers
    )
    assert decided.status_code == 200, decided.text
    task = await _settled(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error

    [event] = _events(calendar, "Catch-up with Sam")
    assert [a["email"] for a in event["attendees"]] == [SAM]
    assert calendar.sent_updates[-1] == "all"  # Google mails Sam the invitation
    detail = (await api.client.get(f"/api/tasks/{task_id}", headers=ann.headers)).json()
    [child] = detail["children"]
    calls = (await api.client.get(f"/api/tasks/{child['id']}", headers=ann.headers)).json()
    assert [(c["tool"], c["outcome"]) for c in calls["tool_calls"]] == [
        ("find_free_slots", "ok"),
        ("create_event", "awaiting_approval"),
        ("create_event", "ok"),
    ]


async def test_denied_the_invitation_is_never_sent(
    api: ApiHarness, calendar: FakeGoogleCalendar
) -> None:
    ann = await api.signup("ann")
    sent = await api.client.post(
        "/api/events",
        json={"instruction": "calendar: find an hour with Sam next week and send an invite"},
        headers=ann.headers,
    )
    task_id = int(sent.json()["task_id"])
    await _settled(api, task_id, waiting=True)
    [approval] = (await api.client.get("/api/approvals", headers=ann.headers)).json()["items"]
    denied = await api.client.post(
        f"/api/approvals/{approval['id']}/deny", json={}, headers=ann.headers
    )
    assert denied.status_code == 200, denied.text
    await _settled(api, task_id)
    assert _events(calendar, "Catch-up with Sam") == []
    assert calendar.sent_updates == []
