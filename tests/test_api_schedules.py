"""``/api/schedules`` over HTTP: CRUD, pause and resume through the daemon's scheduler and, in
the ``api`` role, through rows alone; the scheduler's reasons for bad crons; isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_support import (
    ApiHarness,
    agent_id,
    api_role_harness,
    count_rows,
    error_message,
    make_agent,
    make_schedule,
)
from sqlalchemy import select

from angie.daemon import Angie
from angie.db.models import Schedule
from angie.db.models.scheduler_jobs import scheduler_jobs
from angie.scheduler.jobs import job_id


async def stored(angie: Angie, schedule_id: int) -> Schedule | None:
    async with angie.services.database.session() as session:
        return await session.get(Schedule, schedule_id)


async def job_ids(angie: Angie) -> set[str]:
    """The jobs in the running scheduler's job store (what it will fire, not the schedules)."""
    async with angie.services.database.session() as session:
        return set(await session.scalars(select(scheduler_jobs.c.id)))


@pytest.fixture
async def api_role(sqlite_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    """Angie in the ``api`` role: no scheduler in this process, only the rows."""
    async with api_role_harness(sqlite_url, data_dir) as harness:
        yield harness


async def lifecycle(api: ApiHarness) -> dict[str, Any]:
    sam = await api.signup("sam")
    hue = await agent_id(api, "hue")

    made = await make_schedule(
        api, sam, timezone="Europe/Paris", agent_id=hue, misfire_policy="skip"
    )

    assert made["name"] == "doors"
    assert (made["cron"], made["timezone"], made["agent_id"], made["enabled"]) == (
        "0 22 * * *",
        "Europe/Paris",
        hue,
        True,
    )
    assert (made["misfire_policy"], made["misfire_grace_seconds"]) == ("skip", 3600)
    first = datetime.fromisoformat(made["next_run_at"])
    assert (first.utcoffset(), first.astimezone(ZoneInfo("Europe/Paris")).hour) == (
        timedelta(0),
        22,
    )
    assert made["last_run_at"] is None
    sid = made["id"]
    url = f"/api/schedules/{sid}"
    got = await api.client.get(url, headers=sam.headers)
    assert (got.status_code, got.json()) == (200, made)

    changed = await api.client.patch(
        url, json={"cron": "30 6 * * 1-5", "team_id": None}, headers=sam.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["cron"], changed.json()["agent_id"]) == ("30 6 * * 1-5", None)
    assert changed.json()["next_run_at"] != made["next_run_at"]

    paused = await api.client.post(f"{url}/pause", headers=sam.headers)
    assert (paused.json()["enabled"], paused.json()["next_run_at"]) == (False, None)
    resumed = await api.client.post(f"{url}/resume", headers=sam.headers)
    assert resumed.json()["enabled"] is True
    assert resumed.json()["next_run_at"] is not None
    off = await api.client.patch(url, json={"enabled": False}, headers=sam.headers)
    assert off.json()["enabled"] is False
    on = await api.client.patch(url, json={"enabled": True}, headers=sam.headers)
    assert on.json()["enabled"] is True

    listed = await api.client.get("/api/schedules", headers=sam.headers)
    assert [s["id"] for s in listed.json()["items"]] == [sid]
    deleted = await api.client.delete(url, headers=sam.headers)
    assert deleted.status_code == 204
    assert await stored(api.angie, sid) is None
    assert (await api.client.get(url, headers=sam.headers)).status_code == 404
    return made


async def test_crud_pause_and_resume_through_the_running_scheduler(api: ApiHarness) -> None:
    sam = await api.signup("owner")
    kept = await make_schedule(api, sam, name="kept")
    assert job_id(kept["id"]) in await job_ids(api.angie)  # at once, not at the next reconcile
    paused = await api.client.post(f"/api/schedules/{kept['id']}/pause", headers=sam.headers)
    assert paused.status_code == 200
    assert job_id(kept["id"]) not in await job_ids(api.angie)

    await lifecycle(api)


async def test_crud_in_the_api_role_writes_the_rows(api_role: ApiHarness) -> None:
    assert not api_role.angie.services.schedules.running
    await lifecycle(api_role)


async def test_a_disabled_schedule_can_be_created(api_role: ApiHarness) -> None:
    sam = await api_role.signup("sam")
    made = await make_schedule(api_role, sam, enabled=False)
    assert (made["enabled"], made["next_run_at"]) == (False, None)


BAD_SCHEDULES: list[tuple[dict[str, Any], str]] = [
    ({"cron": "61 * * * *"}, "The minute field '61' has 61, outside 0-59."),
    ({"cron": "* * *"}, "A crontab has five fields"),
    ({"cron": "@fortnightly"}, "is not supported"),
    ({"cron": "0 0 31 2 *"}, "never fires"),
    ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not a known timezone"),
    ({"instruction": "", "agent_id": None}, "needs an instruction"),
    ({"agent_id": 999999}, "there is no agent 999999 you can use"),
    ({"agent_id": "1 OR 1=1"}, "agent_id"),
    ({"misfire_policy": "later"}, "misfire_policy"),
    ({"misfire_grace_seconds": -1}, "misfire_grace_seconds"),
    ({"owner": 1}, "owner"),
    ({"name": ""}, "name"),
]


async def test_bad_schedules_are_refused_with_the_reason(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    for body, says in BAD_SCHEDULES:
        response = await api.client.post(
            "/api/schedules",
            json={"name": "doors", "cron": "0 22 * * *", "instruction": "check", **body},
            headers=sam.headers,
        )
        assert response.status_code == 422, (body, response.text)
        assert says in response.json()["error"]["message"], body

    assert await count_rows(api, Schedule) == 0


async def test_a_cron_error_names_its_field(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    response = await api.client.post(
        "/api/schedules",
        json={"name": "x", "cron": "0 0 * * *", "timezone": "Nowhere", "instruction": "x"},
        headers=sam.headers,
    )
    assert response.json()["error"]["details"][0]["field"] == "body: timezone"


async def test_a_name_taken_is_a_conflict_on_create_and_rename(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await make_schedule(api, sam, name="doors")
    other = await make_schedule(api, sam, name="plants", instruction="water the plants")

    again = await api.client.post(
        "/api/schedules",
        json={"name": " doors ", "cron": "0 8 * * *", "instruction": "x"},
        headers=sam.headers,
    )
    renamed = await api.client.patch(
        f"/api/schedules/{other['id']}", json={"name": "doors"}, headers=sam.headers
    )

    for response in (again, renamed):
        assert response.status_code == 409, response.text
        assert response.json()["error"]["message"] == "You already have a schedule named 'doors'."
    assert await count_rows(api, Schedule) == 2
    row = await stored(api.angie, other["id"])
    assert row is not None
    assert row.name == "plants"


async def test_writes_work_with_a_personal_api_token(api: ApiHarness) -> None:
    # Signing in with a token records its use: that write must not block the scheduler's own.
    sam = await api.signup("sam")
    made = await api.client.post("/api/me/tokens", json={"name": "cli"}, headers=sam.headers)
    token = {"Authorization": f"Bearer {made.json()['token']}"}

    created = await api.client.post(
        "/api/schedules",
        json={"name": "doors", "cron": "0 22 * * *", "instruction": "check"},
        headers=token,
    )
    assert created.status_code == 201, created.text
    url = f"/api/schedules/{created.json()['id']}"
    assert (await api.client.post(f"{url}/pause", headers=token)).status_code == 200
    assert (await api.client.delete(url, headers=token)).status_code == 204
    assert await count_rows(api, Schedule) == 0


async def test_sql_in_a_name_is_just_text(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    name = "x'; DROP TABLE schedules; --"
    made = await make_schedule(api, sam, name=name)
    assert made["name"] == name
    assert await count_rows(api, Schedule) == 1


async def test_bad_updates_change_nothing(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await make_schedule(api, sam)
    url = f"/api/schedules/{made['id']}"

    for body, says in [
        ({"cron": "0 25 * * *"}, "The hour field '25' has 25, outside 0-23."),
        ({"timezone": "Atlantis"}, "'Atlantis' is not a known timezone"),
        ({"name": None}, "name: cannot be null"),
        ({"enabled": None}, "enabled: cannot be null"),
        ({"agent_id": 1, "team_id": 1}, "one agent, one team or one workflow"),
    ]:
        response = await api.client.patch(url, json=body, headers=sam.headers)
        assert response.status_code == 422, (body, response.text)
        assert says in response.json()["error"]["message"], body
    row = await stored(api.angie, made["id"])
    assert row is not None
    assert (row.cron, row.timezone, row.name, row.enabled) == ("0 22 * * *", "UTC", "doors", True)


async def test_another_persons_schedule_is_not_found_and_untouched(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    made = await make_schedule(api, sam)
    url = f"/api/schedules/{made['id']}"

    assert (await api.client.get("/api/schedules", headers=kim.headers)).json()["total"] == 0
    for method, path, body in [
        ("GET", url, None),
        ("PATCH", url, {"cron": "* * * * *"}),
        ("DELETE", url, None),
        ("POST", f"{url}/pause", None),
        ("POST", f"{url}/resume", None),
    ]:
        response = await api.client.request(method, path, json=body, headers=kim.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["message"] == f"there is no schedule {made['id']}"
    row = await stored(api.angie, made["id"])
    assert row is not None
    assert (row.cron, row.enabled) == ("0 22 * * *", True)


async def test_another_persons_agent_cannot_be_scheduled(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    lamp = (await make_agent(api, sam, "sams_lamp"))["id"]
    mine = await make_schedule(api, kim)

    made = await api.client.post(
        "/api/schedules",
        json={"name": "borrowed", "cron": "0 7 * * *", "agent_id": lamp},
        headers=kim.headers,
    )
    changed = await api.client.patch(
        f"/api/schedules/{mine['id']}", json={"agent_id": lamp}, headers=kim.headers
    )

    for response in (made, changed):
        assert error_message(response, 422) == f"there is no agent {lamp} you can use"
    assert await count_rows(api, Schedule) == 1
    row = await stored(api.angie, mine["id"])
    assert row is not None
    assert row.agent_id is None


async def test_a_preview_says_the_crontab_in_words_with_its_next_five_runs(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")
    response = await api.client.post(
        "/api/schedules/preview",
        json={"cron": "0 7 * * 1-5", "timezone": "Europe/Paris"},
        headers=sam.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] == "At 07:00, Monday through Friday"
    assert body["timezone"] == "Europe/Paris"
    runs = [
        datetime.fromisoformat(at).astimezone(ZoneInfo("Europe/Paris")) for at in body["next_runs"]
    ]
    assert len(runs) == 5
    assert runs == sorted(runs)
    assert all((at.hour, at.minute) == (7, 0) and at.weekday() < 5 for at in runs)
    # A macro reads as the crontab it stands for; nothing was saved by previewing.
    daily = await api.client.post(
        "/api/schedules/preview", json={"cron": "@daily"}, headers=sam.headers
    )
    assert daily.json()["description"] == "At 00:00"
    assert await count_rows(api, Schedule) == 0


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"cron": "0 7 * *"}, "body: cron", "has five fields"),
        ({"cron": "61 7 * * *"}, "body: cron", "minute"),
        ({"cron": "0 7 * * *", "timezone": "Mars/Olympus"}, "body: timezone", "Mars/Olympus"),
    ],
)
async def test_a_bad_preview_names_the_field_and_why(
    api: ApiHarness, body: dict[str, Any], field: str, says: str
) -> None:
    sam = await api.signup("sam")
    response = await api.client.post("/api/schedules/preview", json=body, headers=sam.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"][0]["field"] == field
    assert says in error["message"]


async def test_a_preview_needs_a_sign_in(api: ApiHarness) -> None:
    response = await api.client.post("/api/schedules/preview", json={"cron": "0 7 * * *"})
    assert response.status_code == 401
