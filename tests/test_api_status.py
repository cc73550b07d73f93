"""``/api/status`` over HTTP: your unfinished top-level tasks by state, recent events, the next
cron runs and the MCP servers, and nothing of anyone else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from api_support import ApiHarness

from angie.daemon import Angie
from angie.db.models import Event, EventType, Task, TaskKind, TaskStatus


async def add_task(angie: Angie, user_id: int, status: TaskStatus, **fields: Any) -> int:
    async with angie.services.database.session() as session:
        task = Task(kind=TaskKind.CHAT, user_id=user_id, status=status, input={}, **fields)
        session.add(task)
        await session.flush()
        return task.id


async def test_status_shows_your_work_events_crons_and_servers(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    t0 = datetime.now(UTC) - timedelta(hours=1)
    running = await add_task(api.angie, sam.id, TaskStatus.RUNNING, created_at=t0)
    queued_old = await add_task(api.angie, sam.id, TaskStatus.QUEUED, created_at=t0)
    queued_new = await add_task(
        api.angie, sam.id, TaskStatus.QUEUED, created_at=t0 + timedelta(minutes=1)
    )
    waiting = await add_task(api.angie, sam.id, TaskStatus.AWAITING_APPROVAL, created_at=t0)
    await add_task(api.angie, sam.id, TaskStatus.RUNNING, parent_id=waiting)  # a child: not shown
    await add_task(api.angie, sam.id, TaskStatus.SUCCEEDED)
    await add_task(api.angie, kim.id, TaskStatus.RUNNING)
    async with api.angie.services.database.session() as session:
        for i in range(12):
            session.add(
                Event(
                    type=EventType.MESSAGE,
                    source="slack",
                    user_id=sam.id,
                    created_at=t0 + timedelta(seconds=i),
                )
            )
        session.add(Event(type=EventType.MESSAGE, source="slack", user_id=kim.id))
    for name, cron in (("hourly", "0 * * * *"), ("daily", "0 9 * * *")):
        made = await api.client.post(
            "/api/schedules",
            json={"name": name, "cron": cron, "instruction": "check"},
            headers=sam.headers,
        )
        assert made.status_code == 201, made.text

    response = await api.client.get("/api/status", headers=sam.headers)

    assert response.status_code == 200, response.text
    status = response.json()
    assert [t["id"] for t in status["running"]] == [running]
    assert [t["id"] for t in status["queued"]] == [queued_new, queued_old]
    assert [t["id"] for t in status["awaiting_approval"]] == [waiting]
    recent = status["recent_events"]
    assert len(recent) == 10
    stamps = [r["created_at"] for r in recent]
    assert stamps == sorted(stamps, reverse=True)
    crons = status["next_crons"]
    assert len(crons) == 5
    ats = [datetime.fromisoformat(c["at"]) for c in crons]
    assert ats == sorted(ats)
    assert {c["name"] for c in crons} <= {"hourly", "daily"}
    assert set(crons[0]) == {"schedule_id", "name", "at", "cron"}
    # This Angie has no servers: the seeded rows of servers not installed are not listed.
    assert status["servers"] == []
    # This Angie runs the scheduler and, alone on her database, holds its lease.
    scheduler = status["scheduler"]
    assert scheduler["holder"] == api.angie.services.scheduler_leader.holder
    assert scheduler["this_process"] == "leader"
    assert scheduler["renewed_at"] is not None


async def test_status_sums_what_your_tasks_used_today(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    await add_task(api.angie, sam.id, TaskStatus.SUCCEEDED, input_tokens=1000, output_tokens=50)
    await add_task(
        api.angie,
        sam.id,
        TaskStatus.FAILED,
        input_tokens=500,
        output_tokens=20,
        cost_usd=Decimal("0.25"),
    )
    await add_task(
        api.angie,
        sam.id,
        TaskStatus.SUCCEEDED,
        input_tokens=9000,
        cost_usd=Decimal(3),
        created_at=datetime.now(UTC) - timedelta(days=1),
    )
    await add_task(api.angie, kim.id, TaskStatus.SUCCEEDED, input_tokens=7, cost_usd=Decimal(1))

    status = (await api.client.get("/api/status", headers=sam.headers)).json()

    assert status["today"] == {
        "input_tokens": 1500,
        "output_tokens": 70,
        "cost_usd": 0.25,
        "budget_usd": None,
    }


async def test_status_of_someone_new_is_empty(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    await add_task(api.angie, sam.id, TaskStatus.RUNNING)
    made = await api.client.post(
        "/api/schedules",
        json={"name": "x", "cron": "* * * * *", "instruction": "check"},
        headers=sam.headers,
    )
    assert made.status_code == 201
    sent = await api.client.post("/api/events", json={"instruction": "hi"}, headers=sam.headers)
    assert sent.status_code == 202

    status = (await api.client.get("/api/status", headers=kim.headers)).json()

    for key in ("running", "queued", "awaiting_approval", "recent_events", "next_crons"):
        assert status[key] == [], key
    assert status["today"]["input_tokens"] == 0
    assert (await api.client.get("/api/status")).status_code == 401
