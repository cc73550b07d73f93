"""What the orchestrator benchmarks share: the real Hue MCP server against the fake bridge, Angie on
the embedded queue or split into daemon and worker over Redis, a scripted model, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

import redis
from angie_mcp_hue.testing import FakeHueBridge
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

from angie.daemon import Angie, Role
from angie.db.models import Agent, User
from angie.feedback import Delivery, Feedback
from angie.mcp.registry import builtin_specs
from angie.mcp.supervisor import Endpoint
from angie.settings import AngieSettings

__all__ = (
    "REDIS_URL",
    "Deployment",
    "Inbox",
    "QueueKind",
    "deployment",
    "flush_namespace",
    "hue_bridge",
    "pct",
    "redis_answers",
    "script_model",
)

# Benchmarks use Redis database 1 (tests count down from 15, one per test worker).
REDIS_URL = os.environ.get("ANGIE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
QueueKind = Literal["embedded", "redis"]
_WAIT_S = 60.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def redis_answers(url: str = REDIS_URL) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Angie asks the hue agent; an agent holding ``hue_list_lights`` calls it; both then answer
    with what came back. One script for Angie, her agents and the bare baseline agent."""
    last = messages[-1]
    returns = (
        [p.content for p in last.parts if isinstance(p, ToolReturnPart)]
        if isinstance(last, ModelRequest)
        else []
    )
    if returns:
        return ModelResponse(parts=[TextPart(f"done: {str(returns[-1])[:200]}")])
    tools = {t.name for t in info.function_tools}
    if "ask_hue" in tools:
        return ModelResponse(
            parts=[ToolCallPart("ask_hue", {"request": "Which lights are there?"})]
        )
    if "hue_list_lights" in tools:
        return ModelResponse(parts=[ToolCallPart("hue_list_lights", {})])
    return ModelResponse(parts=[TextPart("nothing to do")])


def script_model(_name: str | None = None) -> Model:
    return FunctionModel(_respond, model_name="bench-script")


@contextlib.contextmanager
def hue_bridge() -> Iterator[FakeHueBridge]:
    bridge = FakeHueBridge()
    bridge.start()
    try:
        yield bridge
    finally:
        bridge.stop()


def flush_namespace(url: str = REDIS_URL, namespace: str = "angie-tasks") -> None:
    """Drop what earlier runs left in the queue's namespace (messages, acks, heartbeats)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class Inbox:
    """What reaches one person through the web channel, as it arrives; subscribed on entry, so
    enter before submitting the work whose result it should see."""

    def __init__(self, feedback: Feedback, user_id: int) -> None:
        self._feedback = feedback
        self._user_id = user_id
        self._arrived: asyncio.Queue[Delivery] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None

    async def _collect(self) -> None:
        async for delivery in self._feedback.web.listen(self._user_id):
            self._arrived.put_nowait(delivery)

    async def __aenter__(self) -> Self:
        self._listener = asyncio.create_task(self._collect())
        await asyncio.sleep(0)  # the listener runs up to its subscription
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._listener is not None:
            self._listener.cancel()  # unsubscribes: the channel's listen() cleans up on exit
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def next(self) -> Delivery:
        async with asyncio.timeout(_WAIT_S):  # a stuck task fails the run rather than hang it
            return await self._arrived.get()


@dataclass
class Deployment:
    """``front`` takes events (``serve`` or ``daemon``); ``back`` runs the tasks (the same Angie
    on the embedded queue, a ``worker`` over Redis) and so also sends the feedback."""

    queue: QueueKind
    front: Angie
    back: Angie

    def inbox(self, user_id: int) -> Inbox:
        return Inbox(self.back.services.feedback, user_id)

    @property
    def hue(self) -> Endpoint:
        assert self.back.services.servers.supervisor is not None
        return self.back.services.servers.supervisor.endpoint("hue")

    async def user(self) -> int:
        async with self.front.services.database.session() as session:
            user = User(email=f"{uuid.uuid4().hex[:8]}@bench.test", display_name="Bench")
            session.add(user)
            await session.flush()
            return user.id

    async def agent_id(self, name: str) -> int:
        async with self.front.services.database.session() as session:
            return (await session.scalars(select(Agent.id).where(Agent.name == name))).one()


def _angie(
    data_dir: Path,
    bridge: FakeHueBridge,
    queue: QueueKind,
    role: Role,
    threads: int,
) -> Angie:
    settings = AngieSettings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'angie.db'}",
        data_dir=data_dir,
        redis_url=REDIS_URL if queue == "redis" else None,
        mcp_timeout=20,
    )
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(data_dir),
        "ANGIE_HUE_BRIDGE_HOST": bridge.host,
        "ANGIE_HUE_USERNAME": bridge.username,
    }
    return Angie(
        settings,
        role=role,
        api=False,
        specs=builtin_specs(["hue"]),
        environ=environ,
        model_for=script_model,
        worker_threads=threads,
        scheduler=False,
    )


@contextlib.asynccontextmanager
async def deployment(
    queue: QueueKind, bridge: FakeHueBridge, *, threads: int
) -> AsyncIterator[Deployment]:
    """A fresh SQLite database; over Redis, a daemon and a worker in this process sharing it."""
    with tempfile.TemporaryDirectory(prefix="angie-bench-") as tmp:
        data_dir = Path(tmp)
        if queue == "embedded":
            front = back = _angie(data_dir, bridge, queue, "serve", threads)
        else:
            front = _angie(data_dir, bridge, queue, "daemon", threads)
            back = _angie(data_dir, bridge, queue, "worker", threads)
            flush_namespace()
        await front.start()
        try:
            if back is not front:
                await back.start()
            try:
                yield Deployment(queue, front, back)
            finally:
                if back is not front:
                    await back.stop(grace=5)
        finally:
            await front.stop(grace=5)
