"""``/api/tasks`` over HTTP: the list's filters, sort and totals, the detail's audit trail, cancel
and retry, bad filters refused, and one person never seeing another's tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from api_support import ApiHarness, agent_id, count_rows
from sqlalchemy import event, select

from angie.api.routes.tasks import TaskFilters, TimeRange, task_page
from angie.api.schemas import PageParams
from angie.daemon import Angie
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import (
    Approval,
    ChannelKind,
    Message,
    Task,
    TaskKind,
    TaskStatus,
    ToolCall,
    ToolCallOutcome,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def add_task(angie: Angie, user_id: int | None, **fields: Any) -> int:
    values: dict[str, Any] = {
        "kind": TaskKind.CHAT,
        "status": TaskStatus.SUCCEEDED,
        "input": {"text": "hello"},
        "created_at": T0,
        **fields,
    }
    async with angie.services.database.session() as session:
        task = Task(user_id=user_id, **values)
        session.add(task)
        await session.flush()
        return task.id


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


async def test_list_shows_only_your_top_level_tasks_newest_first_with_agent_names(
    api: ApiHarness,
) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    hue = await agent_id(api, "hue")
    old = await add_task(api.angie, sam.id, created_at=T0)
    new = await add_task(
        api.angie, sam.id, kind=TaskKind.AGENT, agent_id=hue, created_at=T0 + timedelta(hours=1)
    )
    await add_task(api.angie, sam.id, parent_id=old, created_at=T0 + timedelta(hours=2))
    await add_task(api.angie, kim.id, created_at=T0 + timedelta(hours=3))

    page = await api.client.get("/api/tasks", headers=sam.headers)

    assert page.status_code == 200, page.text
    body = page.json()
    assert (ids(body), body["total"], body["limit"], body["offset"]) == ([new, old], 2, 50, 0)
    first = body["items"][0]
    assert (first["agent_id"], first["agent"], first["kind"]) == (hue, "hue", "agent")
    assert body["items"][1]["agent"] is None
    assert set(first) == {
        "id", "kind", "status", "agent_id", "agent", "team_id", "workflow_id", "parent_id",
        "event_id", "input", "result", "error", "attempts", "max_attempts", "channel", "thread",
        "created_at", "updated_at", "started_at", "finished_at",
        "input_tokens", "output_tokens", "cost_usd",
    }  # fmt: skip
    assert ids((await api.client.get("/api/tasks", headers=kim.headers)).json()) != ids(body)


async def test_filters_sort_and_pages(api_db: ApiHarness) -> None:
    api = api_db
    sam = await api.signup("sam")
    hue = await agent_id(api, "hue")
    made = {}
    for i, (status, kind) in enumerate(
        [
            (TaskStatus.SUCCEEDED, TaskKind.CHAT),
            (TaskStatus.FAILED, TaskKind.AGENT),
            (TaskStatus.QUEUED, TaskKind.AGENT),
            (TaskStatus.FAILED, TaskKind.CHAT),
            (TaskStatus.CANCELLED, TaskKind.WORKFLOW),
        ]
    ):
        made[i] = await add_task(
            api.angie,
            sam.id,
            status=status,
            kind=kind,
            agent_id=hue if kind is TaskKind.AGENT else None,
            created_at=T0 + timedelta(minutes=i),
        )
    child = await add_task(api.angie, sam.id, parent_id=made[0], created_at=T0 + timedelta(days=1))

    async def get(query: str) -> dict[str, Any]:
        response = await api.client.get(f"/api/tasks?{query}", headers=sam.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    failed = await get("status=failed")
    assert (ids(failed), failed["total"]) == ([made[3], made[1]], 2)
    assert ids(await get("status=failed&status=cancelled&sort=id")) == [made[1], made[3], made[4]]
    assert ids(await get("kind=agent&sort=created_at")) == [made[1], made[2]]
    assert ids(await get(f"agent_id={hue}&status=queued")) == [made[2]]
    window = await get("since=2026-03-01T12:01:00Z&until=2026-03-01T12:03:00%2B00:00")
    assert ids(window) == [made[2], made[1]]
    assert ids(await get("since=2026-03-01T12:04:00")) == [made[4]]  # no offset: UTC
    assert ids(await get("top_level=false&limit=1")) == [child]
    assert (await get("top_level=false"))["total"] == 6
    by_status = await get("sort=status")
    assert [i["status"] for i in by_status["items"]] == sorted(
        i["status"] for i in by_status["items"]
    )
    second = await get("sort=-id&limit=2&offset=2")
    assert (ids(second), second["total"], second["limit"], second["offset"]) == (
        [made[2], made[1]],
        5,
        2,
        2,
    )
    assert (await get("offset=50"))["items"] == []


BAD_FILTERS = [
    ("status=done", "status"),
    ("status=queued' OR '1'='1", "status"),
    ("kind=robot", "kind"),
    ("agent_id=1 OR 1=1", "agent_id"),
    ("agent_id=0", "agent_id"),
    ("workflow_id=99999999999", "workflow_id"),
    ("since=yesterday", "since"),
    ("until=0001-01-01T00:00:00%2B14:00", "until is out of range"),
    ("since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "since must be before until"),
    ("sort=owner", "cannot sort by 'owner'"),
    ("sort=created_at;DROP TABLE tasks", "sort"),
    ("top_level=maybe", "top_level"),
    ("limit=0", "limit"),
    ("limit=201", "limit"),
]


async def test_bad_filters_are_refused_and_change_nothing(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await add_task(api.angie, sam.id)

    for query, says in BAD_FILTERS:
        response = await api.client.get(f"/api/tasks?{query}", headers=sam.headers)
        assert response.status_code == 422, (query, response.text)
        assert says in response.json()["error"]["message"], query

    assert await count_rows(api, Task) == 1
    assert (await api.client.get("/api/tasks", headers=sam.headers)).json()["total"] == 1


async def test_list_is_one_page_query_and_one_count(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    hue = await agent_id(api, "hue")
    for i in range(30):
        await add_task(
            api.angie, sam.id, kind=TaskKind.AGENT, agent_id=hue, created_at=T0 + timedelta(i)
        )
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = api.angie.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = await api.client.get("/api/tasks?limit=20", headers=sam.headers)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert response.status_code == 200
    assert [i["agent"] for i in response.json()["items"]] == ["hue"] * 20
    on_tasks = [s for s in statements if "FROM tasks" in s]
    assert len(on_tasks) == 2, on_tasks
    assert not any("FROM agents" in s and "tasks" not in s for s in statements)


@pytest.mark.parametrize(
    ("statuses", "index"),
    [
        ([], "ix_tasks_user_id_parent_id_created_at"),
        ([TaskStatus.FAILED, TaskStatus.QUEUED], "ix_tasks_user_id_"),
    ],
)
async def test_list_queries_use_the_user_indexes(
    sqlite_url: str, statuses: list[TaskStatus], index: str
) -> None:
    database = Database(sqlite_url)
    await migrate.upgrade(database.engine)
    page, count = task_page(7, TaskFilters(TimeRange(), status=statuses), PageParams())
    try:
        async with database.engine.connect() as conn:
            for stmt in (page, count):
                compiled = stmt.compile(
                    dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
                )
                params = tuple(compiled.params[name] for name in compiled.positiontup or ())
                plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
                details = " | ".join(str(row[-1]) for row in plan)
                assert "SCAN tasks" not in details, details
                assert f"INDEX {index}" in details, details
                if stmt is page and not statuses:
                    # The index is in (created_at, id) order already: the rows are not sorted.
                    assert "TEMP B-TREE" not in details, details
    finally:
        await database.dispose()


async def test_detail_has_the_audit_trail_children_and_approvals(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    top = await add_task(api.angie, sam.id, status=TaskStatus.AWAITING_APPROVAL)
    child = await add_task(
        api.angie, sam.id, parent_id=top, kind=TaskKind.AGENT, status=TaskStatus.AWAITING_APPROVAL
    )
    async with api.angie.services.database.session() as session:
        approval = Approval(
            task_id=child,
            user_id=sam.id,
            tool_call_id="call-1",
            server="hue",
            tool="set_light",
            args_hash="0" * 64,
            arguments={"name": "Floor lamp", "on": True},
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        session.add(approval)
        await session.flush()
        session.add(
            ToolCall(
                task_id=child,
                server="hue",
                tool="set_light",
                arguments={"name": "Floor lamp", "on": True},
                outcome=ToolCallOutcome.AWAITING_APPROVAL,
                approval_id=approval.id,
            )
        )

    response = await api.client.get(f"/api/tasks/{top}", headers=sam.headers)

    assert response.status_code == 200, response.text
    detail = response.json()
    assert (detail["id"], detail["status"]) == (top, "awaiting_approval")
    assert [c["id"] for c in detail["children"]] == [child]
    [call] = detail["tool_calls"]
    assert (call["task_id"], call["server"], call["tool"], call["outcome"]) == (
        child,
        "hue",
        "set_light",
        "awaiting_approval",
    )
    [shown] = detail["approvals"]
    assert (shown["id"], shown["status"], shown["arguments"]) == (
        approval.id,
        "pending",
        {"name": "Floor lamp", "on": True},
    )


async def test_detail_shows_the_tokens_and_cost_of_the_task(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    top = await add_task(
        api.angie, sam.id, input_tokens=1200, output_tokens=80, cost_usd=Decimal("0.0042")
    )

    response = await api.client.get(f"/api/tasks/{top}", headers=sam.headers)

    assert response.status_code == 200, response.text
    detail = response.json()
    assert (detail["input_tokens"], detail["output_tokens"]) == (1200, 80)
    assert detail["cost_usd"] == pytest.approx(0.0042)


async def test_cancel_stops_the_task_and_its_children(api_db: ApiHarness) -> None:
    api = api_db
    sam = await api.signup("sam")
    top = await add_task(api.angie, sam.id, status=TaskStatus.QUEUED)
    child = await add_task(api.angie, sam.id, parent_id=top, status=TaskStatus.QUEUED)

    response = await api.client.post(f"/api/tasks/{top}/cancel", headers=sam.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["finished_at"] is not None) == (
        "cancelled",
        True,
    )
    assert (await api.angie.services.tasks.require(child)).status is TaskStatus.CANCELLED
    again = await api.client.post(f"/api/tasks/{top}/cancel", headers=sam.headers)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == f"task {top} has already cancelled"


async def test_a_finished_task_cannot_be_cancelled(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    done = await add_task(api.angie, sam.id, status=TaskStatus.SUCCEEDED)

    response = await api.client.post(f"/api/tasks/{done}/cancel", headers=sam.headers)

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": f"task {done} has already succeeded",
    }
    assert (await api.angie.services.tasks.require(done)).status is TaskStatus.SUCCEEDED


async def test_retry_queues_a_failed_task_and_it_runs_again(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    failed = await add_task(
        api.angie,
        sam.id,
        status=TaskStatus.FAILED,
        input={"text": "water the plants"},
        attempts=3,
        max_attempts=3,
        error="a service could not be reached (ConnectError)",
    )

    response = await api.client.post(f"/api/tasks/{failed}/retry", headers=sam.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["error"]) == ("queued", None)
    task = await api.settled(failed)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert isinstance(task.result, dict)
    assert task.result["text"].endswith(": water the plants")
    assert task.attempts == 4


async def test_only_failed_or_cancelled_tasks_are_retried(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    done = await add_task(api.angie, sam.id, status=TaskStatus.SUCCEEDED)

    response = await api.client.post(f"/api/tasks/{done}/retry", headers=sam.headers)

    assert response.status_code == 409
    assert "only failed or cancelled tasks are retried" in response.json()["error"]["message"]
    assert (await api.angie.services.tasks.require(done)).status is TaskStatus.SUCCEEDED


async def test_cancel_and_retry_work_with_a_personal_api_token(api: ApiHarness) -> None:
    # Signing in with a token records its use: that write must not block the task's own.
    sam = await api.signup("sam")
    made = await api.client.post("/api/me/tokens", json={"name": "cli"}, headers=sam.headers)
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    queued = await add_task(api.angie, sam.id, status=TaskStatus.QUEUED)

    cancelled = await api.client.post(f"/api/tasks/{queued}/cancel", headers=token)
    retried = await api.client.post(f"/api/tasks/{queued}/retry", headers=token)

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (retried.status_code, retried.json()["status"]) == (200, "queued")


async def test_another_persons_task_is_not_found_and_untouched(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    queued = await add_task(api.angie, sam.id, status=TaskStatus.QUEUED)
    failed = await add_task(api.angie, sam.id, status=TaskStatus.FAILED)

    listed = await api.client.get("/api/tasks?top_level=false", headers=kim.headers)
    assert listed.json()["total"] == 0
    for method, path in [
        ("GET", f"/api/tasks/{queued}"),
        ("POST", f"/api/tasks/{queued}/cancel"),
        ("POST", f"/api/tasks/{failed}/retry"),
    ]:
        response = await api.client.request(method, path, headers=kim.headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["message"].startswith("there is no task")
    assert (await api.angie.services.tasks.require(queued)).status is TaskStatus.QUEUED
    assert (await api.angie.services.tasks.require(failed)).status is TaskStatus.FAILED


@pytest.mark.parametrize("path", ["/api/tasks/0", "/api/tasks/99999999999", "/api/tasks/x"])
async def test_absurd_task_ids_are_refused(api: ApiHarness, path: str) -> None:
    sam = await api.signup("sam")
    assert (await api.client.get(path, headers=sam.headers)).status_code == 422


async def test_tasks_need_a_signed_in_person(api: ApiHarness) -> None:
    response = await api.client.get("/api/tasks")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("value", ["1700000000", "-1.175494351e-38", "1e9"])
async def test_times_are_iso_8601_not_numbers(api: ApiHarness, value: str) -> None:
    sam = await api.signup("sam")

    response = await api.client.get("/api/tasks", params={"since": value}, headers=sam.headers)

    assert response.status_code == 422
    assert "ISO 8601" in response.json()["error"]["message"]


async def test_a_task_that_keeps_killing_angie_is_given_up_and_the_person_told(
    api: ApiHarness,
) -> None:
    me = await api.signup("sam")
    # Three attempts, each ended by the process dying: the task was left running.
    task = await add_task(
        api.angie,
        me.id,
        status=TaskStatus.RUNNING,
        attempts=3,
        max_attempts=3,
        channel=ChannelKind.WEB,
        thread="kitchen",
    )

    await api.angie.services.executor.handle(task)

    settled = await api.angie.services.tasks.require(task)
    assert (settled.status, settled.attempts) == (TaskStatus.FAILED, 3)
    reason = "Angie stopped 3 times while doing this; I gave up so it cannot crash her again"
    assert settled.error == reason
    async with api.angie.services.database.session() as session:
        told = list(await session.scalars(select(Message.content).where(Message.task_id == task)))
    assert len(told) == 1
    assert f"I could not finish that: {reason}." in told[0]
