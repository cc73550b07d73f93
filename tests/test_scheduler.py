"""Schedules as a user manages them: validated, theirs alone, with next runs in their timezone.

These run without a started scheduler, as in the API process: only rows are written.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from angie.access import TargetNotFound
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import Agent, MisfirePolicy, Schedule, Team, User, Workflow
from angie.errors import Invalid
from angie.scheduler.errors import CronError, ScheduleError, ScheduleNotFound
from angie.scheduler.service import Scheduler

# Saturday 28 March 2026, noon UTC: the eve of Europe's change to summer time.
NOW = datetime(2026, 3, 28, 12, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


async def _user(db: Database, email: str = "sam@example.org") -> int:
    async with db.session() as s:
        user = User(email=email, display_name=email.split("@")[0].title())
        s.add(user)
        await s.flush()
        return user.id


async def _row(db: Database, model: Any, **fields: Any) -> int:
    async with db.session() as s:
        row = model(**fields)
        s.add(row)
        await s.flush()
        return int(row.id)


async def _count(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Schedule)) or 0)


@pytest.fixture
def schedules(db: Database) -> Scheduler:
    return Scheduler(db, clock=_clock)


async def test_next_run_honours_the_schedules_timezone_on_a_dst_day(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    paris = await schedules.create(
        sam, "Morning brief", "0 9 * * *", timezone="Europe/Paris", instruction="Brief me."
    )
    utc = await schedules.create(sam, "UTC brief", "0 9 * * *", instruction="Brief me.")
    # 09:00 in Paris on Sunday 29 March is 07:00 UTC (summer time began at 02:00).
    assert paris.next_run_at == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert utc.next_run_at == datetime(2026, 3, 29, 9, tzinfo=UTC)
    stored = await schedules.get(sam, paris.id)
    assert (stored.cron, stored.timezone, stored.enabled) == ("0 9 * * *", "Europe/Paris", True)
    assert stored.next_run_at == datetime(2026, 3, 29, 7, tzinfo=UTC)


async def test_create_keeps_target_policy_and_a_normalised_crontab(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    agent = await _row(db, Agent, name="hue")
    created = await schedules.create(
        sam,
        "  Lights off  ",
        " 0  23 * *  MON-fri ",
        agent_id=agent,
        misfire_policy="skip",
        misfire_grace_seconds=60,
    )
    stored = await schedules.get(sam, created.id)
    assert (stored.name, stored.cron, stored.agent_id, stored.instruction) == (
        "Lights off",
        "0 23 * * mon-fri",
        agent,
        "",
    )
    assert (stored.misfire_policy, stored.misfire_grace_seconds) == (MisfirePolicy.SKIP, 60)
    assert stored.next_run_at == datetime(2026, 3, 30, 23, tzinfo=UTC)  # Monday


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    """Field checks behave the same on every database; SQLite keeps these cases quick."""
    database = Database(sqlite_url)
    try:
        await migrate.upgrade(database.engine)
        yield database
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"name": "  "}, ScheduleError, "A schedule needs a name."),
        ({"name": "x" * 121}, ScheduleError, "at most 120 characters"),
        ({"cron": "0 9 * * 8"}, CronError, "The day-of-week field '8' has 8"),
        ({"cron": "0 9 * *"}, CronError, "A crontab has five fields"),
        ({"timezone": "Europe/Atlantis"}, CronError, "is not a known timezone"),
        ({"instruction": ""}, ScheduleError, "needs an instruction for Angie"),
        ({"misfire_policy": "twice"}, ScheduleError, "'run_once' or 'skip', not 'twice'."),
        ({"misfire_grace_seconds": -1}, ScheduleError, "between 0 and"),
        ({"misfire_grace_seconds": 10**9}, ScheduleError, "between 0 and"),
    ],
)
async def test_bad_input_is_one_sentence_and_nothing_is_written(
    sqlite_db: Database, fields: dict[str, Any], error: type[ScheduleError], message: str
) -> None:
    sam = await _user(sqlite_db)
    arguments: dict[str, Any] = {
        "name": "Digest",
        "cron": "0 9 * * *",
        "instruction": "Summarise my mail.",
    } | fields
    with pytest.raises(error) as caught:
        await Scheduler(sqlite_db, clock=_clock).create(sam, **arguments)
    assert message in str(caught.value)
    assert await _count(sqlite_db) == 0


async def test_a_target_that_does_not_exist_is_refused(db: Database, schedules: Scheduler) -> None:
    sam = await _user(db)
    for kind, field in (("agent", "agent_id"), ("team", "team_id"), ("workflow", "workflow_id")):
        target: dict[str, Any] = {field: 999}
        with pytest.raises(TargetNotFound, match=f"^there is no {kind} 999 you can use$"):
            await schedules.create(sam, "Digest", "0 9 * * *", **target)
    assert await _count(db) == 0


async def test_two_targets_are_refused(db: Database, schedules: Scheduler) -> None:
    sam = await _user(db)
    agent = await _row(db, Agent, name="hue")
    team = await _row(db, Team, name="home")
    with pytest.raises(Invalid, match="one agent, one team or one workflow, not several"):
        await schedules.create(sam, "Both", "0 9 * * *", agent_id=agent, team_id=team)
    assert await _count(db) == 0


async def test_an_unknown_user_is_refused(db: Database, schedules: Scheduler) -> None:
    with pytest.raises(ScheduleError, match=re.escape("User 4242 was not found.")):
        await schedules.create(4242, "Digest", "0 9 * * *", instruction="Hi.")


async def test_another_users_workflow_is_not_a_target(db: Database, schedules: Scheduler) -> None:
    sam = await _user(db)
    lee = await _user(db, "lee@example.org")
    theirs = await _row(db, Workflow, name="Lee's", user_id=lee)
    shared = await _row(db, Workflow, name="Household")
    with pytest.raises(TargetNotFound, match=f"there is no workflow {theirs} you can use"):
        await schedules.create(sam, "Borrowed", "0 9 * * *", workflow_id=theirs)
    created = await schedules.create(sam, "Shared", "0 9 * * *", workflow_id=shared)
    assert created.workflow_id == shared


async def test_a_name_is_unique_per_user(db: Database, schedules: Scheduler) -> None:
    sam = await _user(db)
    lee = await _user(db, "lee@example.org")
    await schedules.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
    with pytest.raises(
        ScheduleError, match=re.escape("You already have a schedule named 'Digest'.")
    ):
        await schedules.create(sam, "Digest", "0 10 * * *", instruction="Mail.")
    await schedules.create(lee, "Digest", "0 9 * * *", instruction="Mail.")
    assert await _count(db) == 2


async def test_a_user_sees_and_touches_only_their_own_schedules(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    lee = await _user(db, "lee@example.org")
    mine = await schedules.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
    await schedules.create(lee, "Plants", "0 8 * * *", instruction="Water them.")
    assert [s.name for s in await schedules.list(sam)] == ["Digest"]
    for attempt in (
        schedules.get(lee, mine.id),
        schedules.update(lee, mine.id, name="Mine now"),
        schedules.pause(lee, mine.id),
        schedules.resume(lee, mine.id),
        schedules.delete(lee, mine.id),
    ):
        with pytest.raises(ScheduleNotFound, match=re.escape(f"Schedule {mine.id} was not found.")):
            await attempt
    assert (await schedules.get(sam, mine.id)).name == "Digest"
    assert [u.name for u in await schedules.upcoming(lee, 5)] == ["Plants"] * 5


async def test_update_moves_the_next_run_and_validates_first(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    created = await schedules.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
    updated = await schedules.update(
        sam, created.id, cron="30 7 * * sun", timezone="Europe/Paris", misfire_policy="skip"
    )
    assert updated.next_run_at == datetime(2026, 3, 29, 5, 30, tzinfo=UTC)
    assert updated.misfire_policy is MisfirePolicy.SKIP
    with pytest.raises(CronError, match="hour field '25'"):
        await schedules.update(sam, created.id, name="Renamed", cron="0 25 * * *")
    stored = await schedules.get(sam, created.id)
    assert (stored.name, stored.cron) == ("Digest", "30 7 * * sun")


async def test_giving_a_target_replaces_the_whole_target(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    agent = await _row(db, Agent, name="hue")
    team = await _row(db, Team, name="home")
    created = await schedules.create(sam, "Lights", "0 23 * * *", agent_id=agent)
    moved = await schedules.update(sam, created.id, team_id=team)
    assert (moved.agent_id, moved.team_id) == (None, team)
    with pytest.raises(ScheduleError, match="needs an instruction"):
        await schedules.update(sam, created.id, team_id=None)
    angie = await schedules.update(sam, created.id, team_id=None, instruction="Dim the lights.")
    assert (angie.agent_id, angie.team_id, angie.instruction) == (None, None, "Dim the lights.")


async def test_renaming_onto_another_schedule_is_refused(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    await schedules.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
    other = await schedules.create(sam, "Plants", "0 8 * * *", instruction="Water.")
    with pytest.raises(ScheduleError, match="already have a schedule named 'Digest'"):
        await schedules.update(sam, other.id, name="Digest")
    assert (await schedules.get(sam, other.id)).name == "Plants"


async def test_pause_clears_the_next_run_and_resume_restores_it(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    created = await schedules.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
    paused = await schedules.pause(sam, created.id)
    assert (paused.enabled, paused.next_run_at) == (False, None)
    assert await schedules.upcoming(sam) == []
    resumed = await schedules.resume(sam, created.id)
    assert (resumed.enabled, resumed.next_run_at) == (True, datetime(2026, 3, 29, 9, tzinfo=UTC))


async def test_delete_removes_the_schedule(db: Database, schedules: Scheduler) -> None:
    sam = await _user(db)
    created = await schedules.create(sam, "Digest", "0 9 * * *", instruction="Mail.")
    await schedules.delete(sam, created.id)
    with pytest.raises(ScheduleNotFound):
        await schedules.get(sam, created.id)
    assert await _count(db) == 0


async def test_upcoming_merges_the_users_schedules_soonest_first(
    db: Database, schedules: Scheduler
) -> None:
    sam = await _user(db)
    brief = await schedules.create(
        sam, "Brief", "0 9 * * *", timezone="Europe/Paris", instruction="Brief me."
    )
    bins = await schedules.create(sam, "Bins", "0 19 * * 0", instruction="Bins out.")
    paused = await schedules.create(sam, "Paused", "*/5 * * * *", instruction="Nag.")
    await schedules.pause(sam, paused.id)
    runs = await schedules.upcoming(sam, limit=4)
    assert [(r.schedule_id, r.at.astimezone(UTC)) for r in runs] == [
        (brief.id, datetime(2026, 3, 29, 7, tzinfo=UTC)),
        (bins.id, datetime(2026, 3, 29, 19, tzinfo=UTC)),
        (brief.id, datetime(2026, 3, 30, 7, tzinfo=UTC)),
        (brief.id, datetime(2026, 3, 31, 7, tzinfo=UTC)),
    ]
    assert runs[0].at.strftime("%H:%M %Z") == "09:00 CEST"
    with pytest.raises(ScheduleError, match="at least one"):
        await schedules.upcoming(sam, limit=0)


async def test_start_needs_an_emit_callback(db: Database) -> None:
    with pytest.raises(RuntimeError, match="needs an emit callback"):
        await Scheduler(db).start()
