"""``/api/events`` over HTTP: submitting API events that become tasks, listing and filtering your
events, the coming runs of your crons (in any process role), and nobody seeing another's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import (
    Account,
    ApiHarness,
    agent_id,
    api_role_harness,
    error_message,
    events_and_tasks,
    json_body,
    make_agent,
    make_schedule,
    make_team,
    make_workflow,
    step,
)

from angie.daemon import Angie
from angie.db.models import (
    Event,
    EventStatus,
    EventType,
    TaskKind,
    TaskStatus,
)


async def add_event(angie: Angie, user_id: int, **fields: Any) -> int:
    values: dict[str, Any] = {
        "type": EventType.MESSAGE,
        "source": "slack",
        "status": EventStatus.ROUTED,
        "payload": {"text": "hi"},
        **fields,
    }
    async with angie.services.database.session() as session:
        row = Event(user_id=user_id, **values)
        session.add(row)
        await session.flush()
        return row.id


async def submit(api: ApiHarness, who: Account, body: dict[str, Any]) -> dict[str, Any]:
    return json_body(await api.client.post("/api/events", json=body, headers=who.headers), 202)


async def test_an_api_event_becomes_a_task_that_runs(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    sent = await submit(api, sam, {"instruction": "  water the plants  "})

    task = await api.settled(sent["task_id"])
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert (task.kind, task.user_id, task.event_id) == (TaskKind.CHAT, sam.id, sent["event_id"])
    assert task.input["text"] == "water the plants"
    shown = await api.client.get(f"/api/events/{sent['event_id']}", headers=sam.headers)
    assert shown.status_code == 200, shown.text
    event = shown.json()
    assert (event["type"], event["source"], event["status"], event["channel"]) == (
        "api",
        "api",
        "routed",
        "api",
    )
    assert (event["task_id"], event["processed_at"] is not None) == (sent["task_id"], True)


async def test_an_event_can_be_sent_with_a_personal_api_token(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await api.client.post("/api/me/tokens", json={"name": "cli"}, headers=sam.headers)
    token = {"Authorization": f"Bearer {made.json()['token']}"}

    response = await api.client.post("/api/events", json={"instruction": "hi"}, headers=token)

    assert response.status_code == 202, response.text
    task = await api.settled(response.json()["task_id"])
    assert task.status is TaskStatus.SUCCEEDED, task.error


async def test_an_event_for_an_agent_runs_that_agent_with_its_payload(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    hue = await agent_id(api, "hue")

    sent = await submit(
        api,
        sam,
        # A target inside the payload is data, not a way around the checks.
        {"instruction": "lights?", "agent_id": hue, "payload": {"agent_id": 999, "room": "den"}},
    )

    task = await api.angie.services.tasks.require(sent["task_id"])
    assert (task.kind, task.agent_id) == (TaskKind.AGENT, hue)
    assert task.input["data"] == {"agent_id": 999, "room": "den"}


BAD_EVENTS: list[tuple[dict[str, Any], str]] = [
    ({"instruction": "x", "agent_id": 999999}, "there is no agent 999999 you can use"),
    ({"instruction": "x", "team_id": 999999}, "there is no team 999999 you can use"),
    ({"instruction": "x", "agent_id": 1, "team_id": 1}, "at most one of"),
    ({"instruction": "   "}, "needs an instruction"),
    ({"text": "x"}, "instruction"),
    ({"instruction": "x", "untrusted": False}, "untrusted"),
    ({"instruction": "x", "agent_id": "1 OR 1=1"}, "agent_id"),
    ({"instruction": "x", "payload": "[1]"}, "payload"),
    ({"instruction": "x" * 16_001}, "instruction"),
]


async def test_bad_events_are_refused_and_nothing_is_written(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await events_and_tasks(api)

    for body, says in BAD_EVENTS:
        response = await api.client.post("/api/events", json=body, headers=sam.headers)
        assert response.status_code == 422, (body, response.text)
        assert says in response.json()["error"]["message"], body

    assert await events_and_tasks(api) == before


async def test_another_persons_agent_team_or_workflow_cannot_be_asked(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    agent = (await make_agent(api, sam, "sams_lamp"))["id"]
    team = (await make_team(api, sam, "sams_crew", [agent]))["id"]
    workflow = (await make_workflow(api, sam, "morning", [step("one", "go", agent_id=agent)]))["id"]
    before = await events_and_tasks(api)

    for kind, row_id in (("agent", agent), ("team", team), ("workflow", workflow)):
        response = await api.client.post(
            "/api/events", json={"instruction": "", f"{kind}_id": row_id}, headers=kim.headers
        )
        assert error_message(response, 422) == f"there is no {kind} {row_id} you can use"

    assert await events_and_tasks(api) == before


async def test_list_filters_sorts_and_counts_your_events(api_db: ApiHarness) -> None:
    api = api_db
    sam, kim = await api.signup("sam"), await api.signup("kim")
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    first = await add_event(api.angie, sam.id, created_at=t0)
    cron = await add_event(
        api.angie, sam.id, type=EventType.CRON, source="scheduler:1", created_at=t0 + timedelta(1)
    )
    failed = await add_event(
        api.angie, sam.id, status=EventStatus.FAILED, created_at=t0 + timedelta(2)
    )
    await add_event(api.angie, kim.id, created_at=t0 + timedelta(3))

    async def listed(query: str = "") -> dict[str, Any]:
        response = await api.client.get(f"/api/events{query}", headers=sam.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    everything = await listed()
    assert ([e["id"] for e in everything["items"]], everything["total"]) == (
        [failed, cron, first],
        3,
    )
    assert [e["id"] for e in (await listed("?type=cron"))["items"]] == [cron]
    assert [e["id"] for e in (await listed("?status=failed"))["items"]] == [failed]
    window = await listed("?since=2026-03-02T00:00:00Z&until=2026-03-03T00:00:00Z")
    assert [e["id"] for e in window["items"]] == [cron]
    paged = await listed("?sort=id&limit=1&offset=1")
    assert ([e["id"] for e in paged["items"]], paged["total"]) == ([cron], 3)
    for query in (
        "?type=email",
        "?status=routed' OR 1=1 --",
        "?since=2026-03-03T00:00:00Z&until=2026-03-02T00:00:00Z",
        "?sort=payload",
    ):
        bad = await api.client.get(f"/api/events{query}", headers=sam.headers)
        assert bad.status_code == 422, query


async def test_another_persons_events_are_not_found(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    sent = await submit(api, sam, {"instruction": "hello"})

    assert (await api.client.get("/api/events", headers=kim.headers)).json()["total"] == 0
    response = await api.client.get(f"/api/events/{sent['event_id']}", headers=kim.headers)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"there is no event {sent['event_id']}"


async def upcoming_in_any_role(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    half = await make_schedule(api, sam, name="half-hourly", cron="*/30 * * * *")
    paused = await make_schedule(api, sam, name="paused", cron="* * * * *", enabled=False)
    await make_schedule(api, kim, name="kim's", cron="* * * * *")

    response = await api.client.get("/api/events/upcoming?hours=2", headers=sam.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["hours"], body["truncated"]) == (2, False)
    assert [t["schedule_id"] for t in body["items"]] == [half["id"]] * 4
    ats = [datetime.fromisoformat(t["at"]) for t in body["items"]]
    assert ats == sorted(ats)
    assert all(at.minute in (0, 30) for at in ats)
    assert paused["id"] not in {t["schedule_id"] for t in body["items"]}
    assert body["items"][0]["cron"] == "*/30 * * * *"
    cut = await api.client.get("/api/events/upcoming?hours=168&limit=3", headers=sam.headers)
    assert (len(cut.json()["items"]), cut.json()["truncated"]) == (3, True)
    for query in ("hours=0", "hours=169", "hours=soon", "limit=0"):
        bad = await api.client.get(f"/api/events/upcoming?{query}", headers=sam.headers)
        assert bad.status_code == 422, query


async def test_upcoming_runs_are_your_enabled_schedules_ticks(api: ApiHarness) -> None:
    assert api.angie.services.schedules.running
    await upcoming_in_any_role(api)


@pytest.fixture
async def api_role(sqlite_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    """Angie in the ``api`` role: no scheduler and no worker in this process."""
    async with api_role_harness(sqlite_url, data_dir) as harness:
        yield harness


async def test_upcoming_runs_work_without_a_scheduler_in_the_process(api_role: ApiHarness) -> None:
    assert not api_role.angie.services.schedules.running
    await upcoming_in_any_role(api_role)


async def test_events_need_a_signed_in_person(api: ApiHarness) -> None:
    before = await events_and_tasks(api)
    assert (await api.client.post("/api/events", json={"instruction": "x"})).status_code == 401
    assert (await api.client.get("/api/events/upcoming")).status_code == 401
    assert await events_and_tasks(api) == before
