"""``GET /api/tasks`` over 10,000 tasks: Angie's API against a bare FastAPI app, in the same run.

Angie runs in the ``api`` role with her real uvicorn (middleware, bearer-token auth, a session
per request, response models). The baseline is a bare FastAPI app under uvicorn with none of
that, running the same SQL (the statements the route builds: one page, one count) and returning
the same JSON. Each server is a process of its own on 127.0.0.1; this process is the client
(httpx, a fixed number of requests in flight). Rounds alternate, so both see the same machine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Query, Response
from pydantic_core import to_json
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from angie.api.routes.tasks import TaskFilters, TimeRange, task_page
from angie.api.schemas import PageParams
from angie.daemon import Angie
from angie.db.engine import Database
from angie.db.models import Agent, Task, TaskKind, TaskStatus, User
from angie.settings import AngieSettings

TASKS = 10_000
IN_FLIGHT = 8
REQUESTS = int(os.environ.get("ANGIE_BENCH_REQUESTS", "60"))  # per case, round and server
ROUNDS = 6  # short, alternating rounds: both servers see the same machine
HERE = Path(__file__).resolve()
WARMUP = 40
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway key
EMAIL = "bench@home.test"
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway account
LABELS = {"angie": "angie (auth, middleware)", "bare": "bare FastAPI, same SQL"}
CASES = {"default page": "/api/tasks", "status=failed": "/api/tasks?status=failed"}
_STATUSES = [
    TaskStatus.SUCCEEDED,
    TaskStatus.SUCCEEDED,
    TaskStatus.SUCCEEDED,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
    TaskStatus.QUEUED,
    TaskStatus.RUNNING,
    TaskStatus.SUCCEEDED,
    TaskStatus.AWAITING_APPROVAL,
    TaskStatus.SUCCEEDED,
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(data_dir: Path, port: int = 8000) -> AngieSettings:
    return AngieSettings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'angie.db'}",
        data_dir=data_dir,
        secret_key=SECRET,
        log_level="WARNING",
        host="127.0.0.1",
        port=port,
    )


# -- the two servers (each run in a process of its own) -------------------------------------


async def serve_angie(data_dir: Path, port: int) -> None:
    angie = Angie(
        settings(data_dir, port), role="api", specs={}, environ={"PATH": os.environ["PATH"]}
    )
    await angie.run()


def bare_app(database: Database, user_id: int) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/tasks")
    async def tasks(
        status: list[TaskStatus] | None = Query(default=None),  # noqa: B008 - FastAPI's idiom
        limit: int = 50,
        offset: int = 0,
    ) -> Response:
        params = PageParams(limit=limit, offset=offset)
        page, count = task_page(user_id, TaskFilters(TimeRange(), status=status), params)
        async with database.engine.connect() as conn:
            total = await conn.scalar(count)
            rows = [dict(row._mapping) for row in await conn.execute(page)]
        body = {"items": rows, "total": total, "limit": limit, "offset": offset}
        return Response(to_json(body), media_type="application/json")

    return app


async def serve_bare(data_dir: Path, port: int) -> None:
    # Started alongside Angie to save time: it serves once her schema and the person exist.
    database = Database(settings(data_dir).database_url)
    user_id = None
    while user_id is None:
        await asyncio.sleep(0.2)
        try:
            async with database.session() as session:
                user_id = await session.scalar(select(User.id).where(User.email == EMAIL))
        except OperationalError:
            continue  # no schema yet
    config = uvicorn.Config(
        bare_app(database, user_id), host="127.0.0.1", port=port, log_level="warning"
    )
    await uvicorn.Server(config).serve()
    await database.dispose()


# -- the client ------------------------------------------------------------------------------


async def fill(
    data_dir: Path,
    user_id: int,
    *,
    until: datetime | None = None,
    every: timedelta = timedelta(seconds=250),
    statuses: Sequence[TaskStatus] = _STATUSES,
) -> None:
    """10,000 tasks of one person in one bulk insert (Angie's start made the schema and fleet),
    ``every`` apart, the newest at ``until`` (default: a month's worth ending about now)."""
    database = Database(settings(data_dir).database_url)
    newest = until or datetime.now(UTC) - timedelta(days=30) + every * (TASKS - 1)
    async with database.session() as session:
        agents = list(await session.scalars(select(Agent.id)))
        rows: list[dict[str, Any]] = []
        for i in range(TASKS):
            status = statuses[i % len(statuses)]
            agent = agents[i % len(agents)] if i % 3 == 0 and agents else None
            created = newest - every * (TASKS - 1 - i)
            done = status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED)
            rows.append(
                {
                    "kind": TaskKind.AGENT if agent else TaskKind.CHAT,
                    "status": status,
                    "user_id": user_id,
                    "agent_id": agent,
                    "input": {"text": f"turn on lamp number {i}", "event_type": "api"},
                    "result": {"text": f"done {i}", "data": None}
                    if status is TaskStatus.SUCCEEDED
                    else None,
                    "error": "a service could not be reached"
                    if status is TaskStatus.FAILED
                    else None,
                    "attempts": 1,
                    "max_attempts": 3,
                    "created_at": created,
                    "updated_at": created,
                    "started_at": created,
                    "finished_at": created + timedelta(seconds=2) if done else None,
                }
            )
        await session.execute(insert(Task), rows)
    await database.dispose()


async def spawn(mode: str, data_dir: Path, *args: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(HERE), mode, str(data_dir), *(str(a) for a in args)
    )


async def wait_up(client: httpx.AsyncClient, url: str) -> None:
    deadline = time.monotonic() + 120  # imports alone take a while on a busy machine
    while time.monotonic() < deadline:
        try:
            await client.get(url)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], count: int
) -> tuple[list[float], float]:
    """``count`` requests, ``IN_FLIGHT`` at a time: each one's milliseconds and the wall time."""
    latencies: list[float] = []
    left = iter(range(count))

    async def worker() -> None:
        for _ in left:
            start = time.perf_counter()
            response = await client.get(url, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return latencies, time.perf_counter() - began


async def measure(data_dir: Path) -> None:
    started = time.perf_counter()
    angie_port, bare_port = free_port(), free_port()
    servers = [
        await spawn("serve-angie", data_dir, angie_port),
        await spawn("serve-bare", data_dir, bare_port),
    ]
    try:
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            angie_url = f"http://127.0.0.1:{angie_port}"
            await wait_up(client, f"{angie_url}/api/health")
            # The first account needs the setup code Angie wrote beside her data.
            code = (data_dir / "setup-code").read_text().strip()
            made = await client.post(
                f"{angie_url}/api/auth/register",
                json={
                    "email": EMAIL,
                    "password": PASSWORD,
                    "display_name": "Bench",
                    "setup_code": code,
                },
            )
            made.raise_for_status()
            user_id = int(made.json()["id"])
            login = await client.post(
                f"{angie_url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}
            )
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            await fill(data_dir, user_id)
            bare_url = f"http://127.0.0.1:{bare_port}"
            await wait_up(client, f"{bare_url}/api/tasks?limit=1")
            targets = {"angie": (angie_url, auth), "bare": (bare_url, {})}
            for path in CASES.values():
                ours = (await client.get(angie_url + path, headers=auth)).json()
                theirs = (await client.get(bare_url + path)).json()
                assert ours == theirs, "the two servers must answer with the same JSON"
                assert len(ours["items"]) == 50
            print(
                f"{TASKS:,} tasks of one user (SQLite, WAL), GET /api/tasks: 50 items + total; "
                f"{IN_FLIGHT} requests in flight; {ROUNDS} alternating rounds of {REQUESTS} "
                f"requests per case and server, after {WARMUP} warm-up requests"
            )
            measured = time.perf_counter()
            for base, headers in targets.values():
                for path in CASES.values():
                    await load(client, base + path, headers, WARMUP)
            times: dict[tuple[str, str], list[float]] = {(s, c): [] for s in targets for c in CASES}
            walls = {(s, c): 0.0 for s in targets for c in CASES}
            for _ in range(ROUNDS):
                for case, path in CASES.items():
                    for server, (base, headers) in targets.items():
                        latencies, wall = await load(client, base + path, headers, REQUESTS)
                        times[server, case] += latencies
                        walls[server, case] += wall
            report(times, walls)
            spent = time.perf_counter() - measured
            print(f"(setup {measured - started:.1f} s, measuring {spent:.1f} s)")
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            await asyncio.wait_for(proc.wait(), 15)


def report(times: dict[tuple[str, str], list[float]], walls: dict[tuple[str, str], float]) -> None:
    print(f"  {'case':<15} {'server':<30} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for case in CASES:
        figures = {}
        for server, label in (
            ("angie", "angie (auth, middleware)"),
            ("bare", "bare FastAPI, same SQL"),
        ):
            samples = times[server, case]
            figures[server] = (
                pct(samples, 50),
                pct(samples, 99),
                len(samples) / walls[server, case],
            )
            p50, p99, rate = figures[server]
            print(f"  {case:<15} {label:<30} {p50:8.2f} {p99:8.2f} {rate:8.0f}")
        (a50, a99, arate), (b50, b99, brate) = figures["angie"], figures["bare"]
        print(
            f"  {case:<15} {'ratio angie / bare':<30} {a50 / b50:7.2f}x {a99 / b99:7.2f}x "
            f"{arate / brate:7.2f}x"
        )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    if len(sys.argv) > 1 and sys.argv[1] == "serve-angie":
        asyncio.run(serve_angie(Path(sys.argv[2]), int(sys.argv[3])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "serve-bare":
        asyncio.run(serve_bare(Path(sys.argv[2]), int(sys.argv[3])))
        return
    with tempfile.TemporaryDirectory(prefix="angie-bench-api-") as tmp:
        asyncio.run(measure(Path(tmp)))


if __name__ == "__main__":
    main()
