"""``GET /api/tasks/stats``: how the person's tasks ended, day by day in their own time zone (the
dashboard's chart), on SQLite and on MariaDB: days with nothing are zeros, sub-tasks and other
people's tasks do not count, and a bad ``days`` is refused by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from api_support import ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain
from sqlalchemy import update

from angie.db.models import Task, TaskKind, TaskStatus, User

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
async def api(database_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    async with api_harness(make_api_angie(database_url, data_dir, Brain())) as harness:
        yield harness


async def _ended(
    api: ApiHarness, user_id: int, status: TaskStatus, at: datetime, *, parent: int | None = None
) -> int:
    task, _ = await api.angie.services.tasks.submit(
        TaskKind.CHAT, user_id=user_id, input={"text": "x"}, parent_id=parent
    )
    async with api.angie.services.database.session() as session:
        await session.execute(
            update(Task).where(Task.id == task.id).values(status=status, finished_at=at)
        )
    return task.id


async def test_outcomes_are_counted_by_the_persons_own_days(api: ApiHarness) -> None:
    ann = await api.signup("ann")
    bob = await api.signup("bob")
    async with api.angie.services.database.session() as session:
        await session.execute(
            update(User).where(User.id == ann.id).values(timezone="America/New_York")
        )
    today = datetime.now(NEW_YORK).replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday_late = (today - timedelta(days=1)).replace(hour=23, minute=10)
    # 23:10 in New York is the next day in UTC: it counts on New York's yesterday.
    await _ended(api, ann.id, TaskStatus.FAILED, yesterday_late.astimezone(UTC))
    await _ended(api, ann.id, TaskStatus.SUCCEEDED, today.astimezone(UTC))
    parent = await _ended(api, ann.id, TaskStatus.SUCCEEDED, today.astimezone(UTC))
    await _ended(api, ann.id, TaskStatus.FAILED, today.astimezone(UTC), parent=parent)  # a step
    await _ended(api, ann.id, TaskStatus.CANCELLED, (today - timedelta(days=3)).astimezone(UTC))
    await _ended(api, ann.id, TaskStatus.FAILED, (today - timedelta(days=30)).astimezone(UTC))
    await _ended(api, bob.id, TaskStatus.FAILED, today.astimezone(UTC))

    got = await api.client.get("/api/tasks/stats", params={"days": 7}, headers=ann.headers)

    assert got.status_code == 200, got.text
    body = got.json()
    assert body["timezone"] == "America/New_York"
    days = body["days"]
    assert [d["day"] for d in days] == [
        (today.date() - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    by_day = {d["day"]: (d["succeeded"], d["failed"], d["cancelled"]) for d in days}
    assert by_day[today.date().isoformat()] == (2, 0, 0)
    assert by_day[(today.date() - timedelta(days=1)).isoformat()] == (0, 1, 0)
    assert by_day[(today.date() - timedelta(days=3)).isoformat()] == (0, 0, 1)
    assert sum(sum(v) for v in by_day.values()) == 4  # nothing older, no step, nobody else's


@pytest.mark.parametrize("days", ["0", "91", "two"])
async def test_a_bad_number_of_days_is_refused_by_name(api: ApiHarness, days: str) -> None:
    ann = await api.signup("ann")
    got = await api.client.get("/api/tasks/stats", params={"days": days}, headers=ann.headers)
    assert got.status_code == 422
    assert "days" in got.text


async def test_the_stats_need_a_sign_in(api: ApiHarness) -> None:
    assert (await api.client.get("/api/tasks/stats")).status_code == 401
