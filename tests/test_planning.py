"""Planning: Angie's plan is checked, shown to the person before anything starts, then run step
by step as child tasks (each step hearing the results it waits for); a failed step stops the
rest and Angie hears what was done. Through the real API, the real Hue server and the fake
bridge, with the scripted model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import Account, ApiHarness, bridge_puts, floor_lamp_on, hue_api_harness
from fakes.brain import Brain
from pydantic_ai import ModelRetry

from angie.agents.planning import MAX_STEPS, PlanStep, order_steps
from angie.agents.runner import Roster, RosterEntry
from angie.db.models import Task, TaskStatus

DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}

ROSTER = Roster(
    [
        RosterEntry("agent", 1, "hue", "Lights.", True),
        RosterEntry("agent", 2, "spotify", "Music.", True),
        RosterEntry("team", 3, "evening", "Evening things.", True),
        RosterEntry("agent", 4, "gmail", "Mail.", False, "its server is not installed"),
    ]
)


def _step(name: str, ask: str = "hue", after: list[str] | None = None) -> PlanStep:
    return PlanStep(name=name, ask=ask, request=f"do {name}", after=after or [])


def test_steps_run_after_the_steps_they_name_otherwise_as_given() -> None:
    ordered = order_steps(
        [
            _step("music", "spotify", ["lights"]),
            _step("lights"),
            _step("tell", "team_evening", ["music", "lights"]),
            _step("alone"),
        ],
        ROSTER,
    )
    assert [(o.step.name, o.entry.kind, o.entry.id) for o in ordered] == [
        ("lights", "agent", 1),
        ("alone", "agent", 1),
        ("music", "agent", 2),
        ("tell", "team", 3),
    ]


@pytest.mark.parametrize(
    ("steps", "says"),
    [
        ([], "at least one step"),
        ([_step(f"s{i}") for i in range(MAX_STEPS + 1)], f"at most {MAX_STEPS} steps"),
        ([_step("a"), _step("a")], "unique: a is used twice"),
        ([_step("a", "sonos")], "no agent or team 'sonos'. Who can do steps: hue, spotify"),
        ([_step("a", "gmail")], "gmail is not available here (its server is not installed)"),
        ([_step("a", after=["a"])], "cannot come after itself"),
        ([_step("a", after=["b"])], "comes after 'b', which is no step"),
        ([_step("a", after=["b"]), _step("b", after=["a"])], "in a circle: a, b"),
    ],
)
def test_a_bad_plan_is_sent_back_saying_what_is_wrong(steps: list[PlanStep], says: str) -> None:
    with pytest.raises(ModelRetry) as caught:
        order_steps(steps, ROSTER)
    assert says in caught.value.message


def test_step_names_and_requests_are_bounded() -> None:
    with pytest.raises(ValueError, match="should match pattern"):
        PlanStep(name="Has Spaces", ask="hue", request="x")
    with pytest.raises(ValueError, match="at least 1 character"):
        PlanStep(name="ok", ask="hue", request="")


# -- through the API -----------------------------------------------------------------------------

EVENING = {
    "goal": "Get the living room ready for the evening",
    "steps": [
        {"name": "lamp", "ask": "hue", "request": "switch on the floor lamp"},
        {"name": "report", "ask": "hue", "request": "say how the room looks", "after": ["lamp"]},
    ],
}


@pytest.fixture
async def planner(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[tuple[ApiHarness, Brain]]:
    brain = Brain(
        # Only the lamp step switches (the report step hears of the lamp, and must not).
        plans={"switch on": floor_lamp_on},
        angie_plans={"evening": EVENING},
        fail_on={"broken"},
    )
    async with hue_api_harness(sqlite_url, data_dir, bridge, brain) as harness:
        yield harness, brain


async def _finished(api: ApiHarness, task_id: int, seconds: float = 30) -> Task:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        task = await api.angie.services.tasks.require(task_id)
        if task.status in DONE:
            return task
        assert asyncio.get_running_loop().time() < deadline, f"task {task_id} still {task.status}"
        await asyncio.sleep(0.05)


async def _pending(api: ApiHarness, who: Account) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        found = (await api.client.get("/api/approvals", headers=who.headers)).json()["items"]
        if found:
            return list(found)
        assert asyncio.get_running_loop().time() < deadline, "no approval was asked for"
        await asyncio.sleep(0.05)


async def _approve(api: ApiHarness, who: Account, approval: dict[str, Any]) -> None:
    decided = await api.client.post(
        f"/api/approvals/{approval['id']}/approve", json={}, headers=who.headers
    )
    assert decided.status_code == 200, decided.text


async def _detail(api: ApiHarness, who: Account, task_id: int) -> dict[str, Any]:
    got = await api.client.get(f"/api/tasks/{task_id}", headers=who.headers)
    assert got.status_code == 200, got.text
    return dict(got.json())


async def test_a_plan_is_shown_before_it_starts_then_runs_step_by_step(
    planner: tuple[ApiHarness, Brain], bridge: FakeHueBridge
) -> None:
    api, brain = planner
    sam = await api.signup("sam")
    sent = await api.client.post(
        "/api/events", json={"instruction": "get ready for the evening"}, headers=sam.headers
    )
    assert sent.status_code == 202, sent.text
    task_id = sent.json()["task_id"]

    [shown] = await _pending(api, sam)
    assert (shown["server"], shown["tool"]) == ("angie", "make_plan")
    assert shown["arguments"]["goal"] == EVENING["goal"]
    assert [s["name"] for s in shown["arguments"]["steps"]] == ["lamp", "report"]
    assert shown["asked_because"] == "Angie shows you a plan before any of it starts"
    [plan] = (await _detail(api, sam, task_id))["plans"]
    assert plan["status"] == "proposed"
    assert [(s["name"], s["status"], s["task_id"]) for s in plan["steps"]] == [
        ("lamp", "waiting", None),
        ("report", "waiting", None),
    ]
    assert bridge_puts(bridge) == []
    assert [c for c in brain.calls if c[0] == "agent"] == []

    await _approve(api, sam, shown)
    # The lamp step's agent asks for its own side effect, as any agent does.
    [lamp] = await _pending(api, sam)
    assert (lamp["server"], lamp["tool"]) == ("hue", "set_light")
    plan = (await _detail(api, sam, task_id))["plans"][0]
    assert (plan["status"], plan["steps"][0]["status"]) == ("running", "waiting")
    await _approve(api, sam, lamp)

    task = await _finished(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert len(bridge_puts(bridge)) == 1
    detail = await _detail(api, sam, task_id)
    [plan] = detail["plans"]
    assert plan["status"] == "succeeded"
    steps = {s["name"]: s for s in plan["steps"]}
    assert {name: s["status"] for name, s in steps.items()} == {
        "lamp": "succeeded",
        "report": "succeeded",
    }
    # The plan ran as a task of its own under the chat; its steps are that task's children.
    [runner] = detail["children"]
    assert (runner["kind"], runner["status"]) == ("workflow", "succeeded")
    ran = await _detail(api, sam, runner["id"])
    assert {c["id"] for c in ran["children"]} == {
        steps["lamp"]["task_id"],
        steps["report"]["task_id"],
    }
    # The report step heard the lamp step's result.
    report = await api.angie.services.tasks.require(steps["report"]["task_id"])
    assert "Result of step 'lamp'" in report.input["text"]
    assert "say how the room looks" in report.input["text"]
    assert "The plan is done" in str(task.result)


async def test_a_denied_plan_starts_nothing(
    planner: tuple[ApiHarness, Brain], bridge: FakeHueBridge
) -> None:
    api, brain = planner
    sam = await api.signup("sam")
    sent = await api.client.post(
        "/api/events", json={"instruction": "evening please"}, headers=sam.headers
    )
    task_id = sent.json()["task_id"]
    [shown] = await _pending(api, sam)
    denied = await api.client.post(
        f"/api/approvals/{shown['id']}/deny", json={"reason": "not now"}, headers=sam.headers
    )
    assert denied.status_code == 200, denied.text

    task = await _finished(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert bridge_puts(bridge) == []
    assert [c for c in brain.calls if c[0] == "agent"] == []
    detail = await _detail(api, sam, task_id)
    assert detail["children"] == []
    assert [p["status"] for p in detail["plans"]] == ["denied"]


async def test_a_failed_step_stops_the_plan_and_angie_hears_what_was_done(
    planner: tuple[ApiHarness, Brain], bridge: FakeHueBridge
) -> None:
    api, brain = planner
    brain.angie_plans["lights out"] = {
        "goal": "Check the lights, then the broken one",
        "steps": [
            {"name": "check", "ask": "hue", "request": "which lights are on?"},
            {"name": "fix", "ask": "hue", "request": "the broken light", "after": ["check"]},
            {"name": "after", "ask": "hue", "request": "report", "after": ["fix"]},
        ],
    }
    sam = await api.signup("sam")
    sent = await api.client.post(
        "/api/events", json={"instruction": "lights out"}, headers=sam.headers
    )
    task_id = sent.json()["task_id"]
    [shown] = await _pending(api, sam)
    await _approve(api, sam, shown)

    task = await _finished(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    [plan] = (await _detail(api, sam, task_id))["plans"]
    assert plan["status"] == "failed"
    assert [(s["name"], s["status"]) for s in plan["steps"]] == [
        ("check", "succeeded"),
        ("fix", "failed"),
        ("after", "waiting"),
    ]
    said = str(task.result)
    assert "step 'fix' (hue) failed" in said
    assert "Steps done: check. Steps not run: after." in said
    assert "propose a new plan" in said


async def test_someone_else_cannot_see_or_approve_a_plan(
    planner: tuple[ApiHarness, Brain],
) -> None:
    api, _ = planner
    sam = await api.signup("sam")
    ann = await api.signup("ann")
    sent = await api.client.post(
        "/api/events", json={"instruction": "evening"}, headers=sam.headers
    )
    task_id = sent.json()["task_id"]
    [shown] = await _pending(api, sam)

    assert (await api.client.get(f"/api/tasks/{task_id}", headers=ann.headers)).status_code == 404
    refused = await api.client.post(
        f"/api/approvals/{shown['id']}/approve", json={}, headers=ann.headers
    )
    assert refused.status_code == 404


def test_angie_tasks_show_lays_out_a_plans_steps() -> None:
    from rich.console import Console

    from angie.cli.tasks import _plan

    console = Console(record=True, width=160)
    console.print(
        _plan(
            {
                "id": 3,
                "status": "failed",
                "goal": "Evening",
                "steps": [
                    {"name": "lamp", "ask": "hue", "after": [], "status": "succeeded",
                     "task_id": 7, "request": "switch on the floor lamp"},
                    {"name": "music", "ask": "spotify", "after": ["lamp"], "status": "failed",
                     "task_id": 8, "request": "play jazz"},
                ],
            }
        )
    )  # fmt: skip
    text = console.export_text()
    assert "Plan 3 (failed): Evening" in text
    assert "lamp" in text
    assert "music" in text
    assert "spotify" in text
    assert "play jazz" in text
