"""What may be taken once is taken once, under real concurrency on SQLite and MariaDB: an
invite, the setup code, a refresh token; and a burst with one personal API token is answered
in full and stamps its last use once."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import PASSWORD, ApiHarness, make_api_angie, register
from fakes.brain import Brain
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from angie.db import engine as engine_module
from angie.db.models import ApiToken, Invite, User
from angie_mcp_core.testing import free_port

PARALLEL = 8


def _email() -> str:
    return f"p-{uuid.uuid4().hex[:8]}@home.test"


async def _users(api: ApiHarness) -> int:
    async with api.angie.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_one_invite_makes_one_account_however_many_register_at_once(
    api_db: ApiHarness,
) -> None:
    admin = await api_db.signup("admin")
    made = await api_db.client.post(
        "/api/users/invites", json={"is_admin": True}, headers=admin.headers
    )
    code = made.json()["code"]

    answers = await asyncio.gather(
        *(
            api_db.client.post(
                "/api/auth/register",
                json={"email": _email(), "password": PASSWORD, "invite_code": code},
            )
            for _ in range(PARALLEL)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] + [403] * (PARALLEL - 1)
    assert await _users(api_db) == 2
    [winner] = [a.json() for a in answers if a.status_code == 201]
    async with api_db.angie.services.database.session() as session:
        invite = (await session.scalars(select(Invite))).one()
    assert invite.used_at is not None
    assert invite.used_by_id == winner["id"]


async def test_the_setup_code_makes_one_admin_however_many_register_at_once(
    api_db: ApiHarness,
) -> None:
    code = api_db.angie.services.setup.code

    answers = await asyncio.gather(
        *(
            api_db.client.post(
                "/api/auth/register",
                json={"email": _email(), "password": PASSWORD, "setup_code": code},
            )
            for _ in range(PARALLEL)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] + [403] * (PARALLEL - 1)
    assert await _users(api_db) == 1


async def test_a_refresh_token_used_in_parallel_works_once(
    database_url: str, data_dir: Path
) -> None:
    port = free_port()
    angie = make_api_angie(database_url, data_dir, Brain(), api=True, port=port)
    await angie.start()
    try:
        limits = httpx.Limits(max_connections=PARALLEL)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
        ) as client:
            sam = await register(client, "sam", inviter=None, setup_code=angie.services.setup.code)

            answers = await asyncio.gather(
                *(
                    client.post("/api/auth/refresh", json={"refresh_token": sam.refresh_token})
                    for _ in range(PARALLEL)
                )
            )

            assert Counter(a.status_code for a in answers)[200] <= 1
            assert sum(a.status_code in (200, 401) for a in answers) == PARALLEL
            # A reuse ends the session: whatever the winner got no longer works either.
            for answer in answers:
                if answer.status_code == 200:
                    bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
                    assert (await client.get("/api/me", headers=bearer)).status_code == 401
    finally:
        await angie.stop(grace=5)


# -- a burst with one personal API token ------------------------------------------------------

BURST = 50


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine of the test gets a pool of 8 connections, none more, and waits 10 s for one:
    a request holding one connection while it waits for another would run dry."""
    monkeypatch.setattr(
        engine_module,
        "create_async_engine",
        functools.partial(create_async_engine, pool_size=8, max_overflow=0, pool_timeout=10),
    )


@pytest.fixture
def token_updates() -> Iterator[list[str]]:
    """The UPDATE statements on api_tokens that any engine runs during the test."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            seen.append(statement)

    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_a_burst_with_one_api_token_is_answered_and_stamps_it_once(
    small_pool: None, token_updates: list[str], database_url: str, data_dir: Path
) -> None:
    port = free_port()
    angie = make_api_angie(database_url, data_dir, Brain(), api=True, port=port)
    await angie.start()
    try:
        limits = httpx.Limits(max_connections=BURST)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
        ) as client:
            sam = await register(client, "sam", inviter=None, setup_code=angie.services.setup.code)
            headers = {"Authorization": f"Bearer {sam.token}"}
            for _ in range(3):  # each round a new token with a stale stamp
                made = await client.post("/api/me/tokens", json={"name": "cli"}, headers=headers)
                stale = datetime.now(UTC) - timedelta(minutes=5)
                async with angie.services.database.session() as session:
                    await session.execute(
                        update(ApiToken)
                        .where(ApiToken.id == made.json()["id"])
                        .values(last_used_at=stale)
                    )
                token_updates.clear()
                bearer = {"Authorization": f"Bearer {made.json()['token']}"}

                async with asyncio.timeout(30):
                    answers = await asyncio.gather(
                        *(client.get("/api/me", headers=bearer) for _ in range(BURST))
                    )

                assert [a.status_code for a in answers] == [200] * BURST
                assert len(token_updates) == 1
                async with angie.services.database.session() as session:
                    row = await session.get(ApiToken, made.json()["id"])
                assert row is not None
                assert row.last_used_at is not None
                assert row.last_used_at > stale + timedelta(minutes=4)
    finally:
        await angie.stop(grace=5)


async def test_an_api_token_used_again_within_the_minute_is_not_stamped_again(
    token_updates: list[str], api: ApiHarness
) -> None:
    sam = await api.signup("sam")
    made = await api.client.post("/api/me/tokens", json={"name": "cli"}, headers=sam.headers)
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    token_updates.clear()
    for _ in range(3):
        assert (await api.client.get("/api/me", headers=headers)).status_code == 200
    assert len(token_updates) == 1
