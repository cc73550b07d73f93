"""The chat WebSocket on a real server: end to end (register and log in over HTTP, chat over
the socket, watch the hue agent's call wait for approval, approve it over REST, see it made once
on the bridge), signing in, bad frames and whose events a socket sees."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from angie_mcp_hue.testing import FakeHueBridge
from api_support import (
    ApiHarness,
    api_harness,
    bridge_puts,
    count_rows,
    floor_lamp_on,
    make_api_angie,
)
from fakes.brain import Brain
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from angie.api.routes import chat as chat_routes
from angie.db.models import Event, Message, Task
from angie.mcp.registry import builtin_specs
from angie_mcp_core.testing import free_port


@pytest.fixture
async def with_hue(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[tuple[ApiHarness, int]]:
    """Angie with the Hue MCP server and her API on a real port; an HTTP client for it."""
    port = free_port()
    angie = make_api_angie(
        sqlite_url,
        data_dir,
        Brain(plans={"lamp": floor_lamp_on}),
        specs=builtin_specs(["hue"]),
        environ={"ANGIE_HUE_BRIDGE_HOST": bridge.host, "ANGIE_HUE_USERNAME": bridge.username},
        api=True,
        port=port,
    )
    await angie.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield ApiHarness(angie, client), port
    finally:
        await angie.stop(grace=5)


async def until(ws: ClientConnection, wanted: str) -> list[dict[str, Any]]:
    """Frames up to and including the first of type ``wanted``."""
    found: list[dict[str, Any]] = []
    while not found or found[-1]["type"] != wanted:
        found.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
    return found


@pytest.mark.slow
async def test_a_chat_call_waits_for_approval_over_the_socket_and_runs_once(
    with_hue: tuple[ApiHarness, int], bridge: FakeHueBridge
) -> None:
    api, port = with_hue
    sam = await api.signup("sam")
    ask = await api.client.patch(
        "/api/mcp/servers/hue", json={"approval_mode": "ask"}, headers=sam.headers
    )
    assert ask.status_code == 200, ask.text

    async with connect(f"ws://127.0.0.1:{port}/api/chat/ws") as ws:
        await ws.send(json.dumps({"type": "auth", "token": sam.token}))
        await ws.send(
            json.dumps({"type": "message", "text": "hue: turn on the floor lamp", "thread": "e2e"})
        )
        asked = await until(ws, "approval")
        [question] = await until(ws, "reply")
        pending = await api.client.get("/api/approvals", headers=sam.headers)
        assert bridge_puts(bridge) == []  # nothing happens before the answer

        approval_id = asked[-1]["approval_id"]
        approved = await api.client.post(
            f"/api/approvals/{approval_id}/approve", json={}, headers=sam.headers
        )
        assert approved.status_code == 200, approved.text
        finished = await until(ws, "done")

    task_id = asked[0]["task_id"]
    assert asked[0] == {"type": "task", "task_id": task_id, "conversation_id": 1, "thread": "e2e"}
    handed = asked[1]  # Angie hands the request to the hue agent
    assert (handed["server"], handed["tool"]) == ("angie", "ask_hue")
    assert handed["arguments"] == {"request": "turn on the floor lamp"}
    call = asked[2]
    assert (call["type"], call["server"], call["tool"]) == ("tool_call", "hue", "set_light")
    assert call["arguments"] == {"name": "Floor lamp", "on": True}
    assert call["task_id"] == task_id
    assert call["subtask_id"] != task_id  # the hue agent's task, delegated by the chat
    assert asked[-1]["server"] == "hue"
    assert asked[-1]["tool"] == "set_light"
    assert asked[-1]["arguments"] == {"name": "Floor lamp", "on": True}
    assert [a["id"] for a in pending.json()["items"]] == [approval_id]
    assert question["kind"] == "approval_request"
    assert f"approval {approval_id}" in question["text"]

    kinds = [f["type"] for f in finished]
    assert kinds == ["tool_call", "tool_result", "tool_result", "reply", "done"]
    result, answered = finished[1], finished[2]
    assert (result["server"], result["tool"], result["ok"]) == ("hue", "set_light", True)
    assert (answered["server"], answered["tool"], answered["ok"]) == ("angie", "ask_hue", True)
    assert finished[3]["text"].startswith("Angie: done:")
    assert finished[4] == {"type": "done", "task_id": task_id, "status": "succeeded"}
    assert [r.path.rsplit("/", 2)[-2] for r in bridge_puts(bridge)] == ["2"]
    assert bridge.lights["2"]["state"]["on"] is True
    task = await api.client.get(f"/api/tasks/{task_id}", headers=sam.headers)
    assert task.json()["status"] == "succeeded"


# -- the chat socket ---------------------------------------------------------


@dataclass
class Served:
    api: ApiHarness
    ws_url: str


@pytest.fixture
async def served(sqlite_url: str, data_dir: Path) -> AsyncIterator[Served]:
    port = free_port()
    angie = make_api_angie(sqlite_url, data_dir, Brain(), api=True, port=port)
    async with api_harness(angie) as harness:
        yield Served(harness, f"ws://127.0.0.1:{port}/api/chat/ws")


async def closed_with(ws: ClientConnection) -> tuple[int | None, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    received = closed.value.rcvd
    return (received.code, received.reason) if received is not None else (None, "")


async def test_the_socket_chats_after_signing_in(served: Served) -> None:
    sam = await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": sam.token}))
        await ws.send(json.dumps({"type": "message", "text": "hello there", "thread": "w"}))
        got = await until(ws, "done")

    assert [f["type"] for f in got] == ["task", "reply", "done"]
    assert got[0]["thread"] == "w"
    assert got[1]["text"] == "answer to: hello there"
    assert got[-1] == {"type": "done", "task_id": got[0]["task_id"], "status": "succeeded"}


async def test_a_socket_message_tells_angie_what_the_person_is_looking_at(
    served: Served,
) -> None:
    sam, lee = await served.api.signup("sam"), await served.api.signup("lee")
    event = await served.api.client.post(
        "/api/events", json={"instruction": "sams own"}, headers=sam.headers
    )
    event_id = event.json()["event_id"]
    await served.api.settled(event.json()["task_id"])
    asked = {"type": "message", "text": "what is this?"}
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": lee.token}))
        await ws.send(json.dumps({**asked, "context": {"kind": "event", "id": event_id}}))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 5))
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": sam.token}))
        await ws.send(json.dumps({**asked, "context": {"kind": "event", "id": event_id}}))
        got = await until(ws, "done")

    assert refused == {"type": "error", "message": f"there is no event {event_id} you can see"}
    assert f"The person is looking at event {event_id}: an api event" in got[-2]["text"]
    assert await count_rows(served.api, Task) == 2  # sam's event's and sam's question's


async def test_a_personal_api_token_signs_in_too(served: Served) -> None:
    sam = await served.api.signup("sam")
    made = await served.api.client.post(
        "/api/me/tokens", json={"name": "socket"}, headers=sam.headers
    )
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": made.json()["token"]}))
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        assert (await until(ws, "done"))[-1]["status"] == "succeeded"


async def test_bad_frames_are_errors_and_the_socket_stays_open(served: Served) -> None:
    sam = await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": sam.token}))
        bad: list[str | bytes] = [
            "not json",
            "[1, 2]",
            json.dumps({"type": "shout", "text": "hi"}),
            json.dumps({"type": "message", "text": ""}),
            json.dumps({"type": "message", "text": "hi", "extra": 1}),
            json.dumps({"type": "auth", "token": sam.token}),
            b"\xff\xfe",
        ]
        for frame in bad:
            await ws.send(frame)
        errors = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in bad]
        await ws.send(json.dumps({"type": "message", "text": "still here?"}))
        got = await until(ws, "done")

    assert {e["type"] for e in errors} == {"error"}
    messages = [e["message"] for e in errors]
    assert messages[0] == "the frame is not valid JSON"
    assert messages[1] == 'a frame is a JSON object with a "type"'
    assert messages[2].startswith("unknown frame type 'shout'")
    assert messages[3].startswith("text: String should have at least 1 character")
    assert messages[4].startswith("extra: Extra inputs are not permitted")
    assert messages[5] == "you are signed in already"
    assert messages[6] == "the frame is not valid JSON"
    assert got[-1]["status"] == "succeeded"
    assert await count_rows(served.api, Task) == 1


async def test_a_socket_that_does_not_sign_in_first_is_closed_4401(served: Served) -> None:
    firsts = {
        json.dumps({"type": "message", "text": "let me in"}): "the first frame must be",
        json.dumps({"type": "auth"}): "the first frame must be",
        "hello": "the first frame must be",
        json.dumps({"type": "auth", "token": "not-a-token"}): "token",
        json.dumps({"type": "auth", "token": "angie_pat_unknown"}): "the API token is not valid",
    }
    for first, reason in firsts.items():
        async with connect(served.ws_url) as ws:
            await ws.send(first)
            code, said = await closed_with(ws)
        assert code == 4401, first
        assert reason in said, (first, said)
    assert await count_rows(served.api, Event) == 0


async def test_a_socket_that_stays_silent_is_closed_4401(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_routes, "AUTH_SECONDS", 0.3)
    async with connect(served.ws_url) as ws:
        code, reason = await closed_with(ws)
    assert code == 4401
    assert re.search(r"within 0\.3 seconds", reason)


async def test_the_socket_shows_only_the_persons_own_chats(served: Served) -> None:
    sam, lee = await served.api.signup("sam"), await served.api.signup("lee")
    async with connect(served.ws_url) as sams, connect(served.ws_url) as lees:
        await sams.send(json.dumps({"type": "auth", "token": sam.token}))
        await lees.send(json.dumps({"type": "auth", "token": lee.token}))
        await sams.send(json.dumps({"type": "message", "text": "sam here"}))
        got = await until(sams, "done")
        # Lee's socket heard nothing of it; her own chat is the first thing she sees.
        await lees.send(json.dumps({"type": "message", "text": "lee here"}))
        hers = await until(lees, "done")

    assert got[-2]["text"] == "answer to: sam here"
    assert hers[0]["type"] == "task"
    assert {f["task_id"] for f in hers} == {hers[0]["task_id"]}
    assert hers[-2]["text"] == "answer to: lee here"


async def test_the_socket_also_shows_chats_started_elsewhere(served: Served) -> None:
    sam = await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": sam.token}))
        # The socket is signed in once a frame it sends is answered.
        await ws.send("ping")
        assert json.loads(await ws.recv())["type"] == "error"
        said = await served.api.client.post(
            "/api/chat", json={"text": "from the phone"}, headers=sam.headers
        )
        got = await until(ws, "done")

    assert {f["task_id"] for f in got} == {said.json()["task_id"]}
    assert [f["type"] for f in got[-2:]] == ["reply", "done"]
    assert got[-2]["text"] == "answer to: from the phone"


async def test_messages_written_over_the_socket_are_in_the_web_conversation(
    served: Served,
) -> None:
    sam = await served.api.signup("sam")
    async with connect(served.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": sam.token}))
        await ws.send(json.dumps({"type": "message", "text": "note this"}))
        got = await until(ws, "done")

    listed = await served.api.client.get("/api/conversations", headers=sam.headers)
    [conversation] = listed.json()["items"]
    assert conversation["id"] == got[0]["conversation_id"]
    assert (conversation["channel"], conversation["thread"]) == ("web", "web")
    async with served.api.angie.services.database.session() as session:
        said = list(await session.scalars(select(Message.content).order_by(Message.id)))
    assert said == ["note this", "answer to: note this"]
