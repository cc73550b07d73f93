"""The API under test: a started Angie, her FastAPI app on an in-memory ASGI transport, and
accounts made through the real register/login routes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fakes.brain import Brain
from pwdlib.hashers.argon2 import Argon2Hasher

from angie.agents.fleet import seed_fleet
from angie.api.app import create_app
from angie.api.auth import AuthService
from angie.api.security import Passwords
from angie.daemon import Angie
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import Task, TaskStatus
from angie.mcp.registry import ServerSpec
from angie.prompts import prompts_dir
from angie.settings import AngieSettings

__all__ = (
    "Account",
    "ApiHarness",
    "api_harness",
    "make_api_angie",
    "quick_auth",
    "seeded_database",
)

PASSWORD = "correct horse battery staple"
DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


@dataclass
class Account:
    id: int
    email: str
    token: str
    refresh_token: str
    is_admin: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class ApiHarness:
    angie: Angie
    client: httpx.AsyncClient
    accounts: list[Account] = field(default_factory=list)

    async def signup(self, name: str | None = None, *, admin: bool = False) -> Account:
        """Register an account (the first is the admin; later ones through an invite)."""
        email = f"{name or 'user'}-{uuid.uuid4().hex[:6]}@home.test".lower()
        body: dict[str, Any] = {"email": email, "password": PASSWORD, "display_name": name or ""}
        if self.accounts:
            invite = await self.client.post(
                "/api/users/invites",
                json={"email": email, "is_admin": admin},
                headers=self.accounts[0].headers,
            )
            assert invite.status_code == 201, invite.text
            body["invite_code"] = invite.json()["code"]
        made = await self.client.post("/api/auth/register", json=body)
        assert made.status_code == 201, made.text
        login = await self.client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        tokens = login.json()
        account = Account(
            id=tokens["user"]["id"],
            email=email,
            token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            is_admin=tokens["user"]["is_admin"],
        )
        self.accounts.append(account)
        return account

    async def settled(self, task_id: int, seconds: float = 30) -> Task:
        """Wait until a task has finished or waits for an approval (read from the database)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            async with self.angie.database.session() as session:
                task = await session.get(Task, task_id)
                assert task is not None
                if task.status in DONE | {TaskStatus.AWAITING_APPROVAL}:
                    return task
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"task {task_id} still {task.status} after {seconds}s")
            await asyncio.sleep(0.05)


def make_api_angie(
    database_url: str,
    data_dir: Path,
    brain: Brain,
    *,
    specs: Mapping[str, ServerSpec] | None = None,
    environ: Mapping[str, str] | None = None,
    api: bool = False,
    port: int | None = None,
    **settings: Any,
) -> Angie:
    """An Angie for API tests: no MCP servers unless given, the scripted brain as her model."""
    config = AngieSettings(
        _env_file=None,
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        mcp_timeout=20,
        **settings,
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(data_dir), **(environ or {})}
    return Angie(
        config,
        api=api,
        port=port,
        specs=specs or {},
        environ=env,
        model_for=brain.model,
        worker_threads=2,
    )


async def seeded_database(url: str) -> None:
    """Migrate ``url`` to head and seed the fleet, as Angie's first start does."""
    database = Database(url)
    try:
        await migrate.upgrade(database.engine)
        async with database.session() as session:
            await seed_fleet(session, prompts_dir())
    finally:
        await database.dispose()


def quick_auth(angie: Angie) -> AuthService:
    """Argon2 at its cheapest and generous rate limits: the auth tests check the real ones."""
    cheap = Passwords(Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))
    return AuthService(
        angie.settings.secret,
        passwords=cheap,
        database=angie.database,
        login_limit="1000/minute",
        login_ip_limit="1000/minute",
        register_limit="1000/minute",
    )


@asynccontextmanager
async def api_harness(angie: Angie) -> AsyncIterator[ApiHarness]:
    """Start ``angie``, serve her app in memory, stop her afterwards."""
    await angie.start()
    app = create_app(angie, auth_service=quick_auth(angie))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://angie.test") as client:
            yield ApiHarness(angie, client)
    finally:
        await angie.stop(grace=5)
