"""Workflows through the HTTP API: a person's own ordered steps (agents or teams, Jinja2
instructions checked on the way in), replacing steps, running one, and isolation between people."""

from __future__ import annotations

from typing import Any

from api_support import (
    ApiHarness,
    agent_id,
    count_rows,
    error_message,
    make_agent,
    make_workflow,
    step,
    team_id,
)
from sqlalchemy import select

from angie.db.models import Event, EventType, Schedule, TaskKind, TaskStatus, Workflow, WorkflowStep

WORKFLOWS = "/api/workflows"


async def test_create_read_patch_and_delete_a_workflow(api_db: ApiHarness) -> None:
    api = api_db
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    home = await team_id(api, "home")

    made = await make_workflow(
        api,
        sam,
        "morning",
        [
            step("news", "what happened on {{ event.payload.input.repo }}", agent_id=github),
            step(
                "lights",
                "wake the house gently after: {{ previous }}",
                team_id=home,
                on_failure="retry",
                max_retries=3,
            ),
        ],
        description="Start the day.",
    )

    assert made["name"] == "morning"
    assert [(s["position"], s["name"]) for s in made["steps"]] == [(0, "news"), (1, "lights")]
    assert made["steps"][0]["agent"] == "github"
    assert made["steps"][0]["team_id"] is None
    assert made["steps"][1]["team"] == "home"
    assert made["steps"][1]["on_failure"] == "retry"
    assert made["steps"][1]["max_retries"] == 3
    url = f"{WORKFLOWS}/{made['id']}"
    assert (await api.client.get(url, headers=sam.headers)).json() == made
    listed = await api.client.get(WORKFLOWS, headers=sam.headers)
    assert [w["id"] for w in listed.json()["items"]] == [made["id"]]

    patched = await api.client.patch(
        url,
        json={
            "name": "early",
            "enabled": False,
            "steps": [step("only", "say hello", agent_id=github, on_failure="continue")],
        },
        headers=sam.headers,
    )

    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["enabled"], body["description"]) == (
        "early",
        False,
        "Start the day.",
    )
    assert [(s["position"], s["name"], s["on_failure"]) for s in body["steps"]] == [
        (0, "only", "continue")
    ]
    async with api.angie.services.database.session() as session:
        steps = list(await session.scalars(select(WorkflowStep.name)))
    assert steps == ["only"]

    deleted = await api.client.delete(url, headers=sam.headers)

    assert deleted.status_code == 204
    assert error_message(await api.client.get(url, headers=sam.headers), 404)
    assert await count_rows(api, Workflow) == 0
    assert await count_rows(api, WorkflowStep) == 0


async def test_patch_without_steps_keeps_them(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    made = await make_workflow(api, sam, "keep", [step("one", "a", agent_id=github)])

    patched = await api.client.patch(
        f"{WORKFLOWS}/{made['id']}", json={"description": "new words"}, headers=sam.headers
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["steps"] == made["steps"]


# "AGENT" and "TEAM" stand for the ids of the github agent and the home team.
BAD_STEPS: list[tuple[dict[str, Any], str]] = [
    ({"name": "both", "instruction": "x", "agent_id": "AGENT", "team_id": "TEAM"}, "exactly one"),
    ({"name": "neither", "instruction": "x"}, "exactly one"),
    ({"name": "bad", "instruction": "{{ oops", "agent_id": "AGENT"}, "not a valid template"),
    ({"name": "bad", "instruction": "{% for %}", "agent_id": "AGENT"}, "not a valid template"),
    ({"name": "r", "instruction": "x", "agent_id": "AGENT", "max_retries": 11}, "max_retries"),
    ({"name": "r", "instruction": "x", "agent_id": "AGENT", "on_failure": "panic"}, "on_failure"),
    ({"name": "", "instruction": "x", "agent_id": "AGENT"}, "name"),
    ({"name": "e", "instruction": "", "agent_id": "AGENT"}, "instruction"),
    ({"name": "x", "instruction": "x", "agent_id": 999_999}, "there is no agent 999999"),
    ({"name": "x", "instruction": "x", "team_id": 999_999}, "there is no team 999999"),
    ({"name": "x", "instruction": "x", "agent_id": "AGENT", "extra": 1}, "extra"),
]


async def test_create_refuses_a_bad_step(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    ids = {"AGENT": await agent_id(api, "github"), "TEAM": await team_id(api, "home")}

    for case, why in BAD_STEPS:
        bad = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in case.items()}
        response = await api.client.post(
            WORKFLOWS, json={"name": "broken", "steps": [bad]}, headers=sam.headers
        )
        assert why in error_message(response, 422), case

    assert await count_rows(api, Workflow) == 0


async def test_create_refuses_no_steps_duplicate_step_names_and_a_taken_name(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    await make_workflow(api, sam, "taken", [step("one", "a", agent_id=github)])

    empty = await api.client.post(WORKFLOWS, json={"name": "e", "steps": []}, headers=sam.headers)
    twice = await api.client.post(
        WORKFLOWS,
        json={"name": "d", "steps": [step("s", "a", agent_id=github)] * 2},
        headers=sam.headers,
    )
    taken = await api.client.post(
        WORKFLOWS,
        json={"name": "taken", "steps": [step("one", "a", agent_id=github)]},
        headers=sam.headers,
    )

    assert "steps" in error_message(empty, 422)
    assert "two steps are named 's'" in error_message(twice, 422)
    assert "'taken'" in error_message(taken, 409)
    assert await count_rows(api, Workflow) == 1


async def test_a_bad_patch_changes_nothing(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    made = await make_workflow(api, sam, "stable", [step("one", "a", agent_id=github)])
    await make_workflow(api, sam, "other", [step("one", "a", agent_id=github)])
    url = f"{WORKFLOWS}/{made['id']}"

    bad_template = await api.client.patch(
        url, json={"steps": [step("one", "{{ x", agent_id=github)]}, headers=sam.headers
    )
    null_steps = await api.client.patch(url, json={"steps": None}, headers=sam.headers)
    null_name = await api.client.patch(url, json={"name": None}, headers=sam.headers)
    taken = await api.client.patch(url, json={"name": "other"}, headers=sam.headers)

    assert "template" in error_message(bad_template, 422)
    assert "steps" in error_message(null_steps, 422)
    assert "name" in error_message(null_name, 422)
    assert "'other'" in error_message(taken, 409)
    assert (await api.client.get(url, headers=sam.headers)).json() == made


async def test_steps_cannot_use_another_persons_agent(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    anas = (await make_agent(api, ana, "ana_helper"))["id"]

    response = await api.client.post(
        WORKFLOWS,
        json={"name": "borrowed", "steps": [step("go", "go", agent_id=anas)]},
        headers=ben.headers,
    )

    assert f"there is no agent {anas}" in error_message(response, 422)


async def test_workflows_are_invisible_to_other_people(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    github = await agent_id(api, "github")
    made = await make_workflow(api, ana, "private", [step("one", "a", agent_id=github)])
    url = f"{WORKFLOWS}/{made['id']}"
    # Ben may use the same name: workflow names are per person.
    await make_workflow(api, ben, "private", [step("one", "b", agent_id=github)])

    listed = await api.client.get(WORKFLOWS, headers=ben.headers)
    responses = [
        await api.client.get(url, headers=ben.headers),
        await api.client.patch(url, json={"enabled": False}, headers=ben.headers),
        await api.client.delete(url, headers=ben.headers),
        await api.client.post(f"{url}/run", json={}, headers=ben.headers),
    ]

    assert made["id"] not in {w["id"] for w in listed.json()["items"]}
    for response in responses:
        assert error_message(response, 404) == f"there is no workflow {made['id']}"
    assert await count_rows(api, Event) == 0
    assert (await api.client.get(url, headers=ana.headers)).json() == made


async def test_run_a_workflow_with_input(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    made = await make_workflow(
        api,
        sam,
        "weather",
        [
            step("look", "forecast for {{ event.payload.input.city }}", agent_id=github),
            step("tell", "summarise [{{ steps.look }}]", agent_id=github),
        ],
    )

    response = await api.client.post(
        f"{WORKFLOWS}/{made['id']}/run", json={"input": {"city": "Paris"}}, headers=sam.headers
    )

    assert response.status_code == 202, response.text
    run = response.json()
    task = await api.settled(run["task_id"])
    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert task.kind is TaskKind.WORKFLOW
    assert task.workflow_id == made["id"]
    assert task.user_id == sam.id
    assert task.event_id == run["event_id"]
    assert isinstance(task.result, dict)
    assert task.result["text"] == "answer to: summarise [answer to: forecast for Paris]"
    async with api.angie.services.database.session() as session:
        event = await session.get(Event, run["event_id"])
    assert event is not None
    assert event.type is EventType.API
    assert event.payload == {"workflow_id": made["id"], "input": {"city": "Paris"}}


async def test_run_without_a_body_works(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    made = await make_workflow(api, sam, "plain", [step("one", "say hi", agent_id=github)])

    response = await api.client.post(f"{WORKFLOWS}/{made['id']}/run", headers=sam.headers)

    assert response.status_code == 202, response.text
    task = await api.settled(response.json()["task_id"])
    assert task.status is TaskStatus.SUCCEEDED, task.error


async def test_a_disabled_workflow_does_not_run(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    made = await make_workflow(api, sam, "off", [step("one", "a", agent_id=github)], enabled=False)

    response = await api.client.post(f"{WORKFLOWS}/{made['id']}/run", json={}, headers=sam.headers)
    bad_input = await api.client.post(
        f"{WORKFLOWS}/{made['id']}/run", json={"input": [1, 2]}, headers=sam.headers
    )

    assert "disabled" in error_message(response, 409)
    assert "input" in error_message(bad_input, 422)
    assert await count_rows(api, Event) == 0


async def test_a_workflow_a_schedule_runs_is_not_deleted(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    made = await make_workflow(api, sam, "nightly", [step("one", "a", agent_id=github)])
    async with api.angie.services.database.session() as session:
        session.add(
            Schedule(user_id=sam.id, name="at_night", cron="0 2 * * *", workflow_id=made["id"])
        )

    response = await api.client.delete(f"{WORKFLOWS}/{made['id']}", headers=sam.headers)

    assert "schedule 'at_night'" in error_message(response, 409)
    assert await count_rows(api, Workflow) == 1
