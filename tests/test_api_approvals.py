"""``/api/approvals`` over HTTP: a side-effecting Hue call waits for its owner, runs once when
approved and never when denied; deciding twice, too late or someone else's is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import Account, ApiHarness, bridge_puts, floor_lamp_on, hue_api_harness
from fakes.brain import Brain
from sqlalchemy import select, update

from angie.daemon import Angie
from angie.db.models import (
    Approval,
    ApprovalMode,
    ApprovalStatus,
    McpServer,
    Task,
    TaskKind,
    TaskStatus,
)

LAMP = "hue: turn on the floor lamp"
DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


@pytest.fixture
async def hue_api(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[ApiHarness]:
    """Angie with the real Hue MCP server against the fake bridge; its calls need approval."""
    brain = Brain(plans={"lamp": floor_lamp_on})
    async with hue_api_harness(sqlite_url, data_dir, bridge, brain) as harness:
        async with harness.angie.services.database.session() as session:
            await session.execute(
                update(McpServer)
                .where(McpServer.name == "hue")
                .values(approval_mode=ApprovalMode.ASK)
            )
        yield harness


async def finished(api: ApiHarness, task_id: int, seconds: float = 30) -> Task:
    """Wait until the task has finished: its child runs first, then wakes it."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        task = await api.angie.services.tasks.require(task_id)
        if task.status in DONE:
            return task
        assert asyncio.get_running_loop().time() < deadline, f"task {task_id} still {task.status}"
        await asyncio.sleep(0.05)


async def ask_for_the_lamp(api: ApiHarness, who: Account) -> tuple[int, dict[str, Any]]:
    """Ask over the API; wait until the task waits for approval; return it and the approval."""
    sent = await api.client.post("/api/events", json={"instruction": LAMP}, headers=who.headers)
    assert sent.status_code == 202, sent.text
    task_id = sent.json()["task_id"]
    task = await api.settled(task_id)
    assert task.status is TaskStatus.AWAITING_APPROVAL, task.error
    pending = await api.client.get("/api/approvals", headers=who.headers)
    assert pending.status_code == 200, pending.text
    [approval] = pending.json()["items"]
    return task_id, approval


async def test_approving_over_the_api_runs_the_call_exactly_once(
    hue_api: ApiHarness, bridge: FakeHueBridge
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    task_id, approval = await ask_for_the_lamp(api, sam)
    assert (approval["server"], approval["tool"], approval["status"]) == (
        "hue",
        "set_light",
        "pending",
    )
    assert approval["arguments"] == {"name": "Floor lamp", "on": True}
    assert bridge_puts(bridge) == []
    status = (await api.client.get("/api/status", headers=sam.headers)).json()
    assert [t["id"] for t in status["awaiting_approval"]] == [task_id]
    servers = {s["name"]: (s["enabled"], s["health"]) for s in status["servers"]}
    assert servers["hue"] == (True, "healthy")

    decided = await api.client.post(
        f"/api/approvals/{approval['id']}/approve", json={"reason": "go ahead"}, headers=sam.headers
    )

    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["reason"]) == ("approved", "go ahead")
    assert decided.json()["decided_at"] is not None
    task = await finished(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert len(bridge_puts(bridge)) == 1
    assert bridge.lights["2"]["state"]["on"] is True
    detail = (await api.client.get(f"/api/tasks/{task_id}", headers=sam.headers)).json()
    assert [(c["server"], c["tool"], c["outcome"]) for c in detail["tool_calls"]][-2:] == [
        ("hue", "set_light", "ok"),
        ("angie", "ask_hue", "ok"),  # the hue agent's answer came back to Angie
    ]
    assert [a["status"] for a in detail["approvals"]] == ["approved"]
    again = await api.client.post(f"/api/approvals/{approval['id']}/approve", headers=sam.headers)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == f"approval {approval['id']} is already approved"
    assert len(bridge_puts(bridge)) == 1
    assert (await api.client.get("/api/approvals", headers=sam.headers)).json()["total"] == 0


async def test_denying_over_the_api_makes_no_call(
    hue_api: ApiHarness, bridge: FakeHueBridge
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    task_id, approval = await ask_for_the_lamp(api, sam)

    decided = await api.client.post(
        f"/api/approvals/{approval['id']}/deny", json={"reason": "not now"}, headers=sam.headers
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "denied"
    task = await finished(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert isinstance(task.result, dict)
    assert "declined" in task.result["text"]
    assert "not now" in task.result["text"]
    assert bridge_puts(bridge) == []
    denied = await api.client.get("/api/approvals?status=denied", headers=sam.headers)
    assert [a["id"] for a in denied.json()["items"]] == [approval["id"]]


async def add_approval(
    angie: Angie, user_id: int, *, status: ApprovalStatus, expires_in: timedelta
) -> int:
    """An approval on a waiting task, written directly (no run behind it)."""
    decided = None if status is ApprovalStatus.PENDING else datetime.now(UTC)
    async with angie.services.database.session() as session:
        task = Task(
            kind=TaskKind.AGENT,
            user_id=user_id,
            status=TaskStatus.AWAITING_APPROVAL,
            input={"text": LAMP},
        )
        session.add(task)
        await session.flush()
        approval = Approval(
            task_id=task.id,
            user_id=user_id,
            tool_call_id="call-1",
            server="hue",
            tool="set_light",
            args_hash="0" * 64,
            arguments={"name": "Floor lamp", "on": True},
            status=status,
            decided_at=decided,
            expires_at=datetime.now(UTC) + expires_in,
        )
        session.add(approval)
        await session.flush()
        return approval.id


async def stored(angie: Angie, approval_id: int) -> Approval:
    async with angie.services.database.session() as session:
        return (await session.scalars(select(Approval).where(Approval.id == approval_id))).one()


async def test_an_expired_approval_cannot_be_decided(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    late = await add_approval(
        api.angie, sam.id, status=ApprovalStatus.PENDING, expires_in=timedelta(seconds=-1)
    )

    response = await api.client.post(f"/api/approvals/{late}/approve", headers=sam.headers)

    assert response.status_code == 409
    assert response.json()["error"]["message"] == f"approval {late} has expired"
    assert (await stored(api.angie, late)).status is ApprovalStatus.PENDING


async def test_list_filters_by_status_and_defaults_to_pending(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    hour = timedelta(hours=1)
    pending = await add_approval(api.angie, sam.id, status=ApprovalStatus.PENDING, expires_in=hour)
    denied = await add_approval(api.angie, sam.id, status=ApprovalStatus.DENIED, expires_in=hour)

    async def listed(query: str) -> list[int]:
        response = await api.client.get(f"/api/approvals{query}", headers=sam.headers)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert await listed("") == [pending]
    assert await listed("?status=denied") == [denied]
    assert await listed("?status=denied&status=pending&sort=id") == [pending, denied]
    one = await api.client.get(f"/api/approvals/{denied}", headers=sam.headers)
    assert (one.status_code, one.json()["status"]) == (200, "denied")
    for query in ("?status=maybe", "?status=pending' OR 1=1 --", "?sort=server"):
        bad = await api.client.get(f"/api/approvals{query}", headers=sam.headers)
        assert bad.status_code == 422, query


async def test_a_reason_is_optional_but_bounded(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    hour = timedelta(hours=1)
    approval = await add_approval(api.angie, sam.id, status=ApprovalStatus.PENDING, expires_in=hour)

    for body in ({"reason": "x" * 1001}, {"reason": "ok", "approve": True}):
        bad = await api.client.post(
            f"/api/approvals/{approval}/deny", json=body, headers=sam.headers
        )
        assert bad.status_code == 422, bad.text
    assert (await stored(api.angie, approval)).status is ApprovalStatus.PENDING

    # With a personal API token: its recorded use must not block the decision's own write.
    made = await api.client.post("/api/me/tokens", json={"name": "cli"}, headers=sam.headers)
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    denied = await api.client.post(f"/api/approvals/{approval}/deny", headers=token)
    assert (denied.status_code, denied.json()["reason"]) == (200, None)


async def test_another_persons_approval_is_not_found_and_undecided(api: ApiHarness) -> None:
    sam, kim = await api.signup("sam"), await api.signup("kim")
    hour = timedelta(hours=1)
    approval = await add_approval(api.angie, sam.id, status=ApprovalStatus.PENDING, expires_in=hour)

    assert (await api.client.get("/api/approvals", headers=kim.headers)).json()["total"] == 0
    for method, path in [
        ("GET", f"/api/approvals/{approval}"),
        ("POST", f"/api/approvals/{approval}/approve"),
        ("POST", f"/api/approvals/{approval}/deny"),
    ]:
        response = await api.client.request(method, path, headers=kim.headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["message"] == f"there is no approval {approval}"
    assert (await stored(api.angie, approval)).status is ApprovalStatus.PENDING
