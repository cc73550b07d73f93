"""``GET /api/live``: the person's own task changes as server-sent events, through Angie's real
uvicorn (the stream never ends by itself, so it is read over a socket): ids and statuses only,
nothing of another person's, and a sign-in it must have."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import TEST_HOST, Account, ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain
from fakes.storage_servers import free_port

from angie.db.models import TaskKind, TaskStatus

Frames = list[tuple[str, dict[str, Any]]]


@pytest.fixture
async def served(sqlite_url: str, data_dir: Path) -> AsyncIterator[tuple[ApiHarness, str]]:
    port = free_port()
    angie = make_api_angie(
        sqlite_url, data_dir, Brain(), api=True, port=port, allowed_hosts=[TEST_HOST, "127.0.0.1"]
    )
    async with api_harness(angie) as api:
        yield api, f"http://127.0.0.1:{port}"


async def _listen(url: str, who: Account, frames: Frames, opened: asyncio.Event) -> None:
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as http,
        http.stream("GET", "/api/live", headers=who.headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = ""
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                opened.set()
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                frames.append((kind, json.loads(line.removeprefix("data: "))))


async def _ask(api: ApiHarness, who: Account, text: str) -> int:
    sent = await api.client.post("/api/events", json={"instruction": text}, headers=who.headers)
    assert sent.status_code == 202, sent.text
    task = await api.settled(int(sent.json()["task_id"]))
    assert task.status is TaskStatus.SUCCEEDED, task.error
    return task.id


async def _until(frames: Frames, check: Any) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not check(frames):
        assert asyncio.get_running_loop().time() < deadline, frames
        await asyncio.sleep(0.02)


async def test_each_person_hears_of_their_own_tasks_only(served: tuple[ApiHarness, str]) -> None:
    api, url = served
    ann = await api.signup("ann")
    bob = await api.signup("bob")
    heard: Frames = []
    opened = asyncio.Event()
    listening = asyncio.create_task(_listen(url, ann, heard, opened))
    try:
        await asyncio.wait_for(opened.wait(), 10)
        bobs = await _ask(api, bob, "hello from bob")
        anns = await _ask(api, ann, "hello from ann")
        await _until(heard, lambda f: ("done", {"task_id": anns, "status": "succeeded"}) in f)
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
    assert ("task", {"task_id": anns, "status": "running"}) in heard
    assert ("reply", {"task_id": anns, "kind": "result"}) in heard
    # Ids and statuses only: what she said and what Angie answered are read from the API.
    kept = {"task_id", "subtask_id", "status", "approval_id", "kind"}
    assert all(set(data) <= kept for _, data in heard)
    assert all(data.get("task_id") != bobs for _, data in heard)


async def test_a_cancelled_task_is_heard_ending(served: tuple[ApiHarness, str]) -> None:
    api, url = served
    ann = await api.signup("ann")
    task, _ = await api.angie.services.tasks.submit(
        TaskKind.CHAT,
        user_id=ann.id,
        input={"text": "never run"},
    )
    heard: Frames = []
    opened = asyncio.Event()
    listening = asyncio.create_task(_listen(url, ann, heard, opened))
    try:
        await asyncio.wait_for(opened.wait(), 10)
        cancelled = await api.client.post(f"/api/tasks/{task.id}/cancel", headers=ann.headers)
        assert cancelled.status_code == 200, cancelled.text
        await _until(heard, lambda f: ("done", {"task_id": task.id, "status": "cancelled"}) in f)
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def test_the_stream_needs_a_sign_in_and_the_tasks_scope(
    served: tuple[ApiHarness, str],
) -> None:
    api, url = served
    ann = await api.signup("ann")
    made = await api.client.post(
        "/api/me/tokens", json={"name": "crons only", "scopes": ["crons:read"]}, headers=ann.headers
    )
    assert made.status_code == 201, made.text
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        nobody = await http.get("/api/live")
        assert nobody.status_code == 401
        narrow = await http.get(
            "/api/live", headers={"Authorization": f"Bearer {made.json()['token']}"}
        )
        assert narrow.status_code == 403
        assert "tasks:read" in narrow.text
