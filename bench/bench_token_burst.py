"""A burst of ``GET /api/me`` with one personal API token whose last-use stamp is stale.

Angie serves with her real uvicorn on 127.0.0.1 (default pool, 5+10), on a file SQLite and,
when it answers, on the MariaDB of ``ANGIE_TEST_MYSQL_URL``. The client sends ``BURST``
requests at once; printed: the time for all of them, their statuses and how many times the
token's row was updated (the stamp should be written once per burst).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from angie.daemon import Angie
from angie.db.models import ApiToken
from angie.settings import AngieSettings

BURST = int(os.environ.get("ANGIE_BENCH_BURST", "50"))
ROUNDS = 3
MYSQL_URL = os.environ.get("ANGIE_TEST_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306/test")
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway key
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway account
UPDATES: list[str] = []


def _count_updates(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
        UPDATES.append(statement)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _mysql_database() -> str | None:
    server = make_url(MYSQL_URL)
    name = f"angie_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server)
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except (OSError, OperationalError):  # no MariaDB here: that case is skipped
        return None
    finally:
        await admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


async def _drop(url: str) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="test"))
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
    await admin.dispose()


async def _case(label: str, url: str, data_dir: Path) -> None:
    port = _free_port()
    settings = AngieSettings(_env_file=None, database_url=url, data_dir=data_dir, secret_key=SECRET)
    angie = Angie(settings, api=True, port=port, specs={}, worker_threads=1)
    await angie.start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=60,
            limits=httpx.Limits(max_connections=BURST * 2),
        ) as client:
            body = {"email": "bench@home.test", "password": PASSWORD}
            made = await client.post(
                "/api/auth/register", json={**body, "setup_code": angie.services.setup.code}
            )
            assert made.status_code == 201, made.text
            login = (await client.post("/api/auth/login", json=body)).json()
            headers = {"Authorization": f"Bearer {login['access_token']}"}
            for round_ in range(ROUNDS):
                # A new token each round: this process remembers the stamps it wrote.
                made = await client.post("/api/me/tokens", json={"name": "b"}, headers=headers)
                token = made.json()["token"]
                async with angie.services.database.session() as session:
                    stale = datetime.now(UTC) - timedelta(minutes=5)
                    await session.execute(
                        update(ApiToken)
                        .where(ApiToken.id == made.json()["id"])
                        .values(last_used_at=stale)
                    )
                UPDATES.clear()
                me = {"Authorization": f"Bearer {token}"}
                started = time.perf_counter()
                answers = await asyncio.gather(
                    *(client.get("/api/me", headers=me) for _ in range(BURST)),
                    return_exceptions=True,
                )
                took = time.perf_counter() - started
                codes = Counter(getattr(a, "status_code", type(a).__name__) for a in answers)
                print(
                    f"{label:7} round {round_}: {BURST} requests in {took:6.2f} s  "
                    f"statuses {dict(codes)}  token row updates {len(UPDATES)}"
                )
    finally:
        await angie.stop(grace=5)


async def main() -> None:
    logging.disable(logging.WARNING)
    event.listen(Engine, "before_cursor_execute", _count_updates)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "sqlite").mkdir()
        await _case(
            "sqlite", f"sqlite+aiosqlite:///{base / 'sqlite' / 'angie.db'}", base / "sqlite"
        )
        url = await _mysql_database()
        if url is None:
            print("mariadb: not answering, skipped")
            return
        (base / "mysql").mkdir()
        try:
            await _case("mariadb", url, base / "mysql")
        finally:
            await _drop(url)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
