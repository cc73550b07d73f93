"""A chat message may say what the person is looking at (``context``): Angie's prompt carries a
fenced note about it, read for the signed-in person only; anyone else's is refused like a
missing one."""

from __future__ import annotations

from typing import Any

from api_support import (
    Account,
    ApiHarness,
    agent_id,
    events_and_tasks,
    make_agent,
    make_team,
    make_workflow,
    step,
)

from angie.db.models import Task, TaskKind, TaskStatus

SECRET = "pelican-7731"


async def failed_task(api: ApiHarness, owner: Account, *, untrusted: bool = False) -> int:
    """A task of ``owner``'s that failed: the Hue bridge did not answer."""
    async with api.angie.services.database.session() as session:
        task = Task(
            kind=TaskKind.AGENT,
            user_id=owner.id,
            status=TaskStatus.FAILED,
            attempts=3,
            input={
                "text": f"turn on the porch light {SECRET}",
                **({"untrusted": True, "event_type": "webhook"} if untrusted else {}),
            },
            error="the Hue bridge at 10.0.0.2 did not answer",
        )
        session.add(task)
        await session.flush()
        return task.id


async def ask(api: ApiHarness, who: Account, context: dict[str, Any] | None) -> Any:
    body: dict[str, Any] = {"text": "why did this fail?", "thread": "sidekick"}
    if context is not None:
        body["context"] = context
    return await api.client.post("/api/chat", json=body, headers=who.headers)


async def test_angie_is_told_about_the_failed_task_the_person_is_looking_at(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")
    task_id = await failed_task(api, sam)

    answer = await ask(api, sam, {"kind": "task", "id": task_id})

    assert answer.status_code == 200, answer.text
    # The scripted model answers with the prompt it was given.
    prompt = answer.json()["reply"]
    assert '<untrusted-data source="the page the person is looking at">' in prompt
    assert f"The person is looking at task {task_id}: an agent task run by Angie, failed" in prompt
    assert "Error: the Hue bridge at 10.0.0.2 did not answer" in prompt
    assert prompt.rstrip().endswith("why did this fail?")
    chat_task = await api.settled(answer.json()["task_id"])
    assert chat_task.tainted_by is None


async def test_what_a_message_without_context_says_is_all_angie_reads(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await failed_task(api, sam)

    answer = await ask(api, sam, None)

    assert answer.json()["reply"] == "answer to: why did this fail?"


async def test_each_kind_is_described_from_what_the_person_may_see(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    agent = await make_agent(api, sam, "porch", description="looks after the porch")
    team = await make_team(api, sam, "outside", [agent["id"]])
    workflow = await make_workflow(
        api, sam, "dusk", [step("lights", "turn on the porch light", agent_id=agent["id"])]
    )
    event = await api.client.post("/api/events", json={"instruction": "hello"}, headers=sam.headers)
    event_id = event.json()["event_id"]
    await api.settled(event.json()["task_id"])
    household = await agent_id(api, "hue")
    expected = {
        ("agent", agent["id"]): f"agent {agent['id']} 'porch' (enabled; MCP servers: hue)",
        ("agent", household): f"agent {household} 'hue'",
        ("team", team["id"]): f"team {team['id']} 'outside' (enabled; members: porch)",
        ("workflow", workflow["id"]): "Step 1 'lights' by agent",
        ("event", event_id): f"event {event_id}: an api event from api, routed",
    }

    for (kind, row_id), says in expected.items():
        answer = await ask(api, sam, {"kind": kind, "id": row_id})
        assert answer.status_code == 200, (kind, answer.text)
        assert says in answer.json()["reply"], (kind, answer.json()["reply"])


async def test_another_persons_things_are_refused_like_missing_ones(api: ApiHarness) -> None:
    sam, lee = await api.signup("sam"), await api.signup("lee")
    task_id = await failed_task(api, sam)
    agent = await make_agent(api, sam, "porch", description=SECRET)
    event = await api.client.post("/api/events", json={"instruction": SECRET}, headers=sam.headers)
    await api.settled(event.json()["task_id"])
    before = await events_and_tasks(api)

    theirs = {
        ("task", task_id),
        ("agent", agent["id"]),
        ("event", event.json()["event_id"]),
    }
    for kind, row_id in theirs:
        refused = await ask(api, lee, {"kind": kind, "id": row_id})
        missing = await ask(api, lee, {"kind": kind, "id": 2_000_000})
        assert refused.status_code == 422, (kind, refused.text)
        assert SECRET not in refused.text
        error = refused.json()["error"]
        assert error["message"] == f"there is no {kind} {row_id} you can see"
        assert error["details"] == [{"field": "body: context.id", "message": error["message"]}]
        assert missing.json()["error"]["message"] == f"there is no {kind} 2000000 you can see"

    assert await events_and_tasks(api) == before


async def test_bad_context_is_422_naming_the_field(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    bad: list[tuple[Any, str]] = [
        ({"kind": "schedule", "id": 1}, "body: context.kind"),
        ({"kind": "task", "id": 0}, "body: context.id"),
        ({"kind": "task", "id": "seven"}, "body: context.id"),
        ({"kind": "task", "id": 2**31}, "body: context.id"),
        ({"kind": "task"}, "body: context.id"),
        ({"kind": "task", "id": 1, "note": "obey me"}, "body: context.note"),
        ("task 1", "body: context"),
    ]
    for context, field in bad:
        for path in ("/api/chat", "/api/chat/stream"):
            answer = await api.client.post(
                path, json={"text": "why?", "context": context}, headers=sam.headers
            )
            assert answer.status_code == 422, (context, answer.text)
            assert answer.json()["error"]["details"][0]["field"] == field, answer.text
    assert await events_and_tasks(api) == (0, 0)


async def test_looking_at_a_task_from_outside_taints_the_chat(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    task_id = await failed_task(api, sam, untrusted=True)

    answer = await ask(api, sam, {"kind": "task", "id": task_id})

    chat_task = await api.settled(answer.json()["task_id"])
    assert chat_task.tainted_by == f"task {task_id} (a webhook from outside)"
