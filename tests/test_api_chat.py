"""``/api/chat`` (wait for the reply, or follow it as server-sent events) and
``/api/conversations``; the chat WebSocket is tested on a real server in test_api_e2e.py."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import (
    TEST_HOST,
    Account,
    ApiHarness,
    api_harness,
    count_rows,
    floor_lamp_on,
    hue_api_harness,
    make_api_angie,
)
from fakes.brain import Brain, StreamingBrain
from fakes.openai_server import FakeOpenAI
from pydantic import SecretStr
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo
from sqlalchemy import select

from angie.api.routes import chat as chat_routes
from angie.daemon import Angie
from angie.db.models import Event, Task, TaskStatus
from angie.settings import AngieSettings


@dataclass
class SlowBrain(Brain):
    """Takes ``seconds`` over a request that says "slowly"."""

    seconds: float = 2.0

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if any("slowly" in str(getattr(p, "content", "")) for m in messages for p in m.parts):
            time.sleep(self.seconds)  # the model runs on a thread: the loop keeps going
        return super()._respond(messages, info)


def sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """The ``(event, data)`` pairs of a server-sent event stream."""
    found = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


# -- POST /api/chat --------------------------------------------------------------------------


async def test_chat_waits_for_angies_reply(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    answer = await api.client.post("/api/chat", json={"text": "hello"}, headers=sam.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["reply"] == "answer to: hello"
    assert body["status"] == "succeeded"
    task = await api.settled(body["task_id"])
    assert (task.user_id, task.thread, task.channel.value if task.channel else None) == (
        sam.id,
        "api",
        "api",
    )
    messages = await api.client.get(
        f"/api/conversations/{body['conversation_id']}/messages", headers=sam.headers
    )
    assert [(m["role"], m["content"]) for m in messages.json()["items"]] == [
        ("user", "hello"),
        ("assistant", "answer to: hello"),
    ]


def own_model_angie(sqlite_url: str, data_dir: Path, **settings: Any) -> Angie:
    """An Angie whose model comes from her settings, as in production (not the scripted one)."""
    config = AngieSettings(
        _env_file=None,
        database_url=sqlite_url,
        data_dir=data_dir,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        **{"allowed_hosts": [TEST_HOST], **settings},
    )
    return Angie(
        config,
        api=False,
        specs={},
        environ={"PATH": os.environ["PATH"], "HOME": str(data_dir)},
        worker_threads=1,
    )


async def test_chat_without_a_model_says_how_to_configure_one(
    sqlite_url: str, data_dir: Path
) -> None:
    async with api_harness(own_model_angie(sqlite_url, data_dir)) as api:
        sam = await api.signup("sam")
        answer = await api.client.post("/api/chat", json={"text": "hi"}, headers=sam.headers)

    assert answer.status_code == 200, answer.text
    assert answer.json()["reply"].startswith("No language model is configured: set ANGIE_MODEL")


async def test_a_hosted_model_streams_her_words_through_its_real_client(
    sqlite_url: str, data_dir: Path
) -> None:
    with FakeOpenAI(api_key="sk-local") as llm:
        angie = own_model_angie(
            sqlite_url,
            data_dir,
            model="openai:fake",
            model_base_url=llm.url,
            model_api_key=SecretStr("sk-local"),
        )
        async with api_harness(angie) as api:
            sam = await api.signup("sam")
            answer = await api.client.post(
                "/api/chat/stream", json={"text": "good evening"}, headers=sam.headers
            )

    events = sse(answer.text)
    deltas = [data["delta"] for kind, data in events if kind == "text"]
    assert len(deltas) > 1
    assert "".join(deltas) == events[-2][1]["text"] == "You said: good evening"
    assert [r.stream for r in llm.requests] == [True]


async def test_a_failed_turn_replies_why_and_says_failed(sqlite_url: str, data_dir: Path) -> None:
    brain = Brain(fail_on={"explode"})
    async with api_harness(make_api_angie(sqlite_url, data_dir, brain)) as api:
        sam = await api.signup("sam")
        answer = await api.client.post(
            "/api/chat", json={"text": "please explode"}, headers=sam.headers
        )
        streamed = await api.client.post(
            "/api/chat/stream", json={"text": "explode again"}, headers=sam.headers
        )

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "failed"
    assert "I could not finish that: something went wrong" in answer.json()["reply"]
    events = sse(streamed.text)
    assert [kind for kind, _ in events] == ["task", "reply", "done"]
    assert events[1][1]["kind"] == "failure"
    assert events[2][1]["status"] == "failed"


@pytest.fixture
async def slow(sqlite_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    async with api_harness(make_api_angie(sqlite_url, data_dir, SlowBrain())) as harness:
        yield harness


async def test_chat_answers_202_when_the_reply_takes_longer_than_the_wait(
    slow: ApiHarness,
) -> None:
    sam = await slow.signup("sam")

    answer = await slow.client.post(
        "/api/chat", params={"wait": 1}, json={"text": "think slowly"}, headers=sam.headers
    )

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["reply"] is None
    assert body["status"] in {"queued", "running"}
    assert (await slow.settled(body["task_id"])).status is TaskStatus.SUCCEEDED


BAD_CHATS: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({}, {}, "body: text"),
    ({"text": ""}, {}, "body: text"),
    ({"text": "   "}, {}, "body: text"),
    ({"text": "x" * 20_001}, {}, "body: text"),
    ({"text": "hi", "thread": ""}, {}, "body: thread"),
    ({"text": "hi", "thread": "t" * 256}, {}, "body: thread"),
    ({"text": "hi", "channel": "slack"}, {}, "body: channel"),
    ({"text": 5}, {}, "body: text"),
    ({"text": "hi"}, {"wait": 0}, "query: wait"),
    ({"text": "hi"}, {"wait": 301}, "query: wait"),
]


async def test_bad_chat_requests_are_422_and_start_nothing(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    for body, params, field in BAD_CHATS:
        for path in ("/api/chat", "/api/chat/stream")[: 1 if params else 2]:
            answer = await api.client.post(path, params=params, json=body, headers=sam.headers)
            assert answer.status_code == 422, (path, body, params, answer.text)
            assert answer.json()["error"]["details"][0]["field"] == field
    assert await count_rows(api, Event) == 0
    assert await count_rows(api, Task) == 0


async def test_chat_needs_a_signed_in_person(api: ApiHarness) -> None:
    for path in ("/api/chat", "/api/chat/stream", "/api/conversations"):
        method = "GET" if path.endswith("conversations") else "POST"
        answer = await api.client.request(method, path, json={"text": "hi"})
        assert answer.status_code == 401, path
    assert await count_rows(api, Event) == 0


# -- POST /api/chat/stream -------------------------------------------------------------------


@pytest.fixture
async def streaming(sqlite_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    async with api_harness(make_api_angie(sqlite_url, data_dir, StreamingBrain())) as harness:
        yield harness


async def test_the_stream_sends_the_task_her_words_as_written_the_reply_then_done(
    streaming: ApiHarness,
) -> None:
    sam = await streaming.signup("sam")

    answer = await streaming.client.post(
        "/api/chat/stream",
        json={"text": "what a lovely morning", "thread": "t"},
        headers=sam.headers,
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = sse(answer.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "task"
    assert kinds[-2:] == ["reply", "done"]
    assert set(kinds[1:-2]) == {"text"}
    assert len(kinds) > 4  # the words came in more than one delta
    task_id = events[0][1]["task_id"]
    assert all(data["task_id"] == task_id for _, data in events)
    words = "".join(data["delta"] for kind, data in events if kind == "text")
    assert words == events[-2][1]["text"] == "answer to: what a lovely morning"
    assert events[-1][1] == {"task_id": task_id, "status": "succeeded"}
    task = await streaming.settled(task_id)
    assert task.result == {"text": "answer to: what a lovely morning", "data": None}


async def test_streams_of_two_people_at_once_stay_apart(streaming: ApiHarness) -> None:
    sam, lee = await streaming.signup("sam"), await streaming.signup("lee")

    async def say(account: Account, text: str) -> list[tuple[str, dict[str, Any]]]:
        answer = await streaming.client.post(
            "/api/chat/stream", json={"text": text}, headers=account.headers
        )
        assert answer.status_code == 200, answer.text
        return sse(answer.text)

    sams, lees = await asyncio.gather(say(sam, "from sam"), say(lee, "from lee"))

    assert len({data["task_id"] for _, data in sams}) == 1
    assert len({data["task_id"] for _, data in lees}) == 1
    assert sams[0][1]["task_id"] != lees[0][1]["task_id"]
    assert "".join(d["delta"] for k, d in sams if k == "text") == "answer to: from sam"
    assert "".join(d["delta"] for k, d in lees if k == "text") == "answer to: from lee"


async def test_a_cancelled_task_ends_its_stream(slow: ApiHarness) -> None:
    sam = await slow.signup("sam")

    async def cancel_when_running() -> None:
        while True:
            async with slow.angie.services.database.session() as session:
                task = await session.scalar(select(Task).where(Task.user_id == sam.id))
            if task is not None and task.status is TaskStatus.RUNNING:
                await slow.angie.services.tasks.cancel(task.id)
                return
            await asyncio.sleep(0.05)

    canceller = asyncio.create_task(cancel_when_running())
    answer = await slow.client.post(
        "/api/chat/stream", json={"text": "think slowly"}, headers=sam.headers
    )
    await canceller

    events = sse(answer.text)
    assert [kind for kind, _ in events] == ["task", "done"]
    assert events[-1][1]["status"] == "cancelled"


@pytest.fixture
async def with_hue(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[ApiHarness]:
    brain = StreamingBrain(plans={"lamp": floor_lamp_on})
    async with hue_api_harness(sqlite_url, data_dir, bridge, brain) as harness:
        yield harness


@pytest.mark.slow
async def test_the_stream_shows_the_delegated_call_its_approval_and_its_result(
    with_hue: ApiHarness, bridge: FakeHueBridge
) -> None:
    sam = await with_hue.signup("sam")
    stream = asyncio.create_task(
        with_hue.client.post(
            "/api/chat/stream", json={"text": "hue: turn on the floor lamp"}, headers=sam.headers
        )
    )
    pending: list[dict[str, Any]] = []
    while not pending:
        assert not stream.done(), stream.result().text
        await asyncio.sleep(0.05)
        pending = (await with_hue.client.get("/api/approvals", headers=sam.headers)).json()["items"]
    [approval] = pending
    assert [r for r in bridge.requests if r.method == "PUT"] == []
    decided = await with_hue.client.post(
        f"/api/approvals/{approval['id']}/approve", json={}, headers=sam.headers
    )
    assert decided.status_code == 200, decided.text
    answer = await asyncio.wait_for(stream, 30)

    events = sse(answer.text)
    kinds = [kind for kind, _ in events]
    words = kinds.index("text")
    assert kinds[:words] == [
        "task",
        "tool_call",  # Angie hands the request to the hue agent
        "tool_call",
        "approval",
        "reply",
        "tool_call",
        "tool_result",
        "tool_result",  # the hue agent's answer comes back to Angie
    ]
    assert set(kinds[words:-2]) == {"text"}
    assert kinds[-2:] == ["reply", "done"]
    calls = [(d["server"], d["tool"]) for kind, d in events if kind == "tool_call"]
    assert calls == [("angie", "ask_hue"), ("hue", "set_light"), ("hue", "set_light")]
    assert events[1][1]["arguments"] == {"request": "turn on the floor lamp"}
    results = [(d["server"], d["tool"], d["ok"]) for kind, d in events if kind == "tool_result"]
    assert results == [("hue", "set_light", True), ("angie", "ask_hue", True)]
    by_kind = dict(events)
    assert by_kind["approval"]["approval_id"] == approval["id"]
    said = "".join(data["delta"] for kind, data in events if kind == "text")
    assert said == by_kind["reply"]["text"]
    assert said.startswith("Angie: done:")
    assert by_kind["done"]["status"] == "succeeded"
    assert len([r for r in bridge.requests if r.method == "PUT"]) == 1
    # The task shows the hand-over in its audit trail, next to the task it started.
    detail = (
        await with_hue.client.get(f"/api/tasks/{by_kind['task']['task_id']}", headers=sam.headers)
    ).json()
    [child] = detail["children"]
    assert child["kind"] == "agent"
    asked = [
        (c["outcome"], c["task_id"], c["arguments"])
        for c in detail["tool_calls"]
        if (c["server"], c["tool"]) == ("angie", "ask_hue")
    ]
    parent = detail["id"]
    request = {"request": "turn on the floor lamp"}
    assert asked == [("awaiting_approval", parent, request), ("ok", parent, request)]
    assert [c["outcome"] for c in detail["tool_calls"] if c["task_id"] == child["id"]] == [
        "awaiting_approval",
        "ok",
    ]


@pytest.mark.slow
async def test_chat_returns_when_angie_asks_for_an_approval(with_hue: ApiHarness) -> None:
    sam = await with_hue.signup("sam")

    answer = await with_hue.client.post(
        "/api/chat", json={"text": "hue: turn on the floor lamp"}, headers=sam.headers
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "awaiting_approval"
    [approval] = (await with_hue.client.get("/api/approvals", headers=sam.headers)).json()["items"]
    assert f"Approve or deny approval {approval['id']}" in body["reply"]


async def test_a_quiet_stream_sends_keepalives(
    slow: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_routes, "KEEPALIVE_SECONDS", 0.3)
    sam = await slow.signup("sam")

    answer = await slow.client.post(
        "/api/chat/stream", json={"text": "think slowly"}, headers=sam.headers
    )

    assert answer.text.count(": keepalive\n\n") >= 3
    assert [kind for kind, _ in sse(answer.text)] == ["task", "reply", "done"]


@pytest.mark.redis
async def test_the_api_process_streams_what_a_worker_process_does(
    sqlite_url: str, data_dir: Path, redis_url: str
) -> None:
    front = make_api_angie(sqlite_url, data_dir, StreamingBrain(), redis_url=redis_url)
    front.role = "api"
    worker = make_api_angie(sqlite_url, data_dir, StreamingBrain(), redis_url=redis_url)
    worker.role = "worker"
    worker.services.queue.broker.flush_all()
    await worker.start()
    try:
        async with api_harness(front) as api:
            sam = await api.signup("sam")
            answer = await api.client.post(
                "/api/chat/stream", json={"text": "split up"}, headers=sam.headers
            )
    finally:
        await worker.stop(grace=5)

    events = sse(answer.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "task"
    assert kinds[-2:] == ["reply", "done"]
    assert "".join(data["delta"] for kind, data in events if kind == "text") == (
        "answer to: split up"
    )


@pytest.mark.redis
async def test_serve_with_redis_runs_the_worker_in_the_same_process(
    sqlite_url: str, data_dir: Path, redis_url: str
) -> None:
    angie = make_api_angie(sqlite_url, data_dir, Brain(), redis_url=redis_url)
    assert angie.role == "serve"
    angie.services.queue.broker.flush_all()
    async with api_harness(angie) as api:
        sam = await api.signup("sam")
        answer = await api.client.post(
            "/api/chat", params={"wait": 10}, json={"text": "all in one"}, headers=sam.headers
        )
        task = await api.settled(answer.json()["task_id"], seconds=10)

    assert (task.status, answer.json()["reply"]) == (TaskStatus.SUCCEEDED, "answer to: all in one")


# -- conversations ---------------------------------------------------------------------------


async def test_conversations_list_the_latest_first_with_their_last_message(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")
    for text, thread in (("one", "kitchen"), ("two", "garden"), ("three", "kitchen")):
        said = await api.client.post(
            "/api/chat", json={"text": text, "thread": thread}, headers=sam.headers
        )
        assert said.status_code == 200, said.text

    listed = await api.client.get("/api/conversations", headers=sam.headers)

    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [(c["thread"], c["channel"]) for c in page["items"]] == [
        ("kitchen", "api"),
        ("garden", "api"),
    ]
    last = page["items"][0]["last_message"]
    assert (last["role"], last["preview"]) == ("assistant", "answer to: three")
    assert page["items"][0]["updated_at"] == last["created_at"]
    oldest = await api.client.get(
        "/api/conversations", params={"sort": "updated_at"}, headers=sam.headers
    )
    assert [c["thread"] for c in oldest.json()["items"]] == ["garden", "kitchen"]


async def test_messages_page_oldest_first(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    for text in ("one", "two"):
        said = await api.client.post("/api/chat", json={"text": text}, headers=sam.headers)
    conversation = said.json()["conversation_id"]

    page = await api.client.get(
        f"/api/conversations/{conversation}/messages",
        params={"limit": 2, "offset": 1},
        headers=sam.headers,
    )

    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 4
    assert [m["content"] for m in body["items"]] == ["answer to: one", "two"]


async def test_another_persons_conversations_are_not_there(api: ApiHarness) -> None:
    sam, lee = await api.signup("sam"), await api.signup("lee")
    said = await api.client.post("/api/chat", json={"text": "secret"}, headers=sam.headers)
    conversation = said.json()["conversation_id"]

    theirs = await api.client.get(
        f"/api/conversations/{conversation}/messages", headers=lee.headers
    )
    listed = await api.client.get("/api/conversations", headers=lee.headers)

    assert theirs.status_code == 404
    assert theirs.json()["error"]["message"] == f"there is no conversation {conversation}"
    assert listed.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_bad_conversation_queries_are_422(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    said = await api.client.post("/api/chat", json={"text": "hi"}, headers=sam.headers)
    conversation = said.json()["conversation_id"]
    queries: list[tuple[str, dict[str, Any]]] = [
        ("/api/conversations", {"sort": "title"}),
        ("/api/conversations", {"channel": "pigeon"}),
        ("/api/conversations", {"limit": 0}),
        ("/api/conversations/0/messages", {}),
        (f"/api/conversations/{conversation}/messages", {"sort": "content"}),
        ("/api/conversations/99999999999/messages", {}),
    ]
    for path, params in queries:
        answer = await api.client.get(path, params=params, headers=sam.headers)
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.json()["error"]["message"]


async def test_the_routes_are_in_the_openapi_document(api: ApiHarness) -> None:
    document = (await api.client.get("/api/openapi.json")).json()
    paths = document["paths"]
    assert paths["/api/chat"]["post"]["operationId"] == "chat"
    assert paths["/api/chat/stream"]["post"]["operationId"] == "chat_stream"
    assert "text/event-stream" in paths["/api/chat/stream"]["post"]["responses"]["200"]["content"]
    assert paths["/api/conversations"]["get"]["operationId"] == "list_conversations"
    messages = paths["/api/conversations/{conversation_id}/messages"]["get"]
    assert messages["operationId"] == "list_conversation_messages"
