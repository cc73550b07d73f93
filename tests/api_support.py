"""The API under test: a started Angie, her FastAPI app on an in-memory ASGI transport, and
accounts made through the real register/login routes."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from angie_mcp_hue.testing import FakeHueBridge
from fakes.brain import Brain
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select

from angie.accounts.auth import AuthService
from angie.accounts.security import Passwords
from angie.agents.approvals import ApprovalService
from angie.agents.fleet import seed_fleet
from angie.api.app import create_app
from angie.channels.hub import ChannelFactory
from angie.daemon import Angie
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import Agent, Approval, Event, Task, TaskStatus, Team
from angie.mcp.registry import ServerSpec, builtin_specs
from angie.prompts import prompts_dir
from angie.settings import AngieSettings

__all__ = (
    "TEST_HOST",
    "Account",
    "ApiHarness",
    "agent_id",
    "api_harness",
    "api_role_harness",
    "bridge_puts",
    "count_rows",
    "error_message",
    "events_and_tasks",
    "floor_lamp_on",
    "hue_api_harness",
    "json_body",
    "make_agent",
    "make_api_angie",
    "make_schedule",
    "make_team",
    "make_workflow",
    "quick_auth",
    "register",
    "seeded_database",
    "settled",
    "step",
    "team_id",
)

PASSWORD = "correct horse battery staple"
# The name the in-memory client calls Angie by: allowed explicitly, as a deployment would.
TEST_HOST = "angie.test"
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
        inviter = self.accounts[0] if self.accounts else None
        account = await register(
            self.client,
            name,
            inviter=inviter,
            admin=admin,
            setup_code=self.angie.services.setup.code,
        )
        self.accounts.append(account)
        return account

    async def settled(self, task_id: int, seconds: float = 30) -> Task:
        """Wait until a task has finished or waits for an approval (read from the database)."""
        return await settled(self.angie, task_id, seconds)


async def register(
    client: httpx.AsyncClient,
    name: str | None,
    *,
    inviter: Account | None,
    admin: bool = False,
    setup_code: str | None = None,
) -> Account:
    """An account made through the real routes and signed in: the household's first (its
    admin, with the ``setup_code`` Angie printed at start) when there is no ``inviter``, else
    through an invite from ``inviter``."""
    email = f"{name or 'user'}-{uuid.uuid4().hex[:6]}@home.test".lower()
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "display_name": name or ""}
    if inviter is not None:
        invite = await client.post(
            "/api/users/invites", json={"email": email, "is_admin": admin}, headers=inviter.headers
        )
        assert invite.status_code == 201, invite.text
        body["invite_code"] = invite.json()["code"]
    elif setup_code is not None:
        body["setup_code"] = setup_code
    made = await client.post("/api/auth/register", json=body)
    assert made.status_code == 201, made.text
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    return Account(
        id=tokens["user"]["id"],
        email=email,
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        is_admin=tokens["user"]["is_admin"],
    )


async def settled(angie: Angie, task_id: int, seconds: float = 30) -> Task:
    """Wait until a task has finished or waits for an approval (read from the database)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        async with angie.services.database.session() as session:
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
    channel_factory: ChannelFactory | None = None,
    **settings: Any,
) -> Angie:
    """An Angie for API tests: no MCP servers unless given, the scripted brain as her model."""
    config = AngieSettings(
        _env_file=None,
        database_url=database_url,
        data_dir=data_dir,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        **{"mcp_timeout": 20, "allowed_hosts": [TEST_HOST], **settings},
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
        auth=quick_auth(config),  # what her own uvicorn serves too, when `api` is on
        channel_factory=channel_factory,
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


def quick_auth(settings: AngieSettings) -> AuthService:
    """Argon2 at its cheapest and generous rate limits: the auth tests check the real ones."""
    cheap = Passwords(Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))
    return AuthService(
        settings.secret,
        passwords=cheap,
        login_limit="1000/minute",
        login_ip_limit="1000/minute",
        register_limit="1000/minute",
    )


@asynccontextmanager
async def api_harness(angie: Angie) -> AsyncIterator[ApiHarness]:
    """Start ``angie``, serve her app in memory, stop her afterwards."""
    await angie.start()
    app = create_app(angie.services)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
            yield ApiHarness(angie, client)
    finally:
        await angie.stop(grace=5)


@asynccontextmanager
async def api_role_harness(database_url: str, data_dir: Path) -> AsyncIterator[ApiHarness]:
    """Angie in the ``api`` role: no scheduler and no worker in this process, only the rows."""
    angie = make_api_angie(database_url, data_dir, Brain())
    angie.role = "api"
    async with api_harness(angie) as harness:
        yield harness


# -- Angie with the real Hue MCP server against the fake bridge -----------------------------------


def floor_lamp_on(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    """A plan for the Brain: the hue agent switches the floor lamp on."""
    return (
        ("hue_set_light", {"name": "Floor lamp", "on": True}) if "hue_set_light" in tools else None
    )


def bridge_puts(bridge: FakeHueBridge) -> list[Any]:
    """The changes the bridge was asked to make (its PUT requests)."""
    return [r for r in bridge.requests if r.method == "PUT"]


@asynccontextmanager
async def hue_api_harness(
    database_url: str, data_dir: Path, bridge: FakeHueBridge, brain: Brain
) -> AsyncIterator[ApiHarness]:
    """The API of an Angie that runs the real Hue MCP server against the fake bridge."""
    angie = make_api_angie(
        database_url,
        data_dir,
        brain,
        specs=builtin_specs(["hue"]),
        environ={"ANGIE_HUE_BRIDGE_HOST": bridge.host, "ANGIE_HUE_USERNAME": bridge.username},
    )
    async with api_harness(angie) as harness:
        yield harness


# -- reading answers and rows ---------------------------------------------------------------------


def error_message(response: httpx.Response, status: int) -> str:
    """The message of an error response that must have ``status`` and the one error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}, body
    message = body["error"]["message"]
    assert isinstance(message, str)
    assert message
    return message


def json_body(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON object of a response that must have ``status``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict), body
    return body


async def count_rows(api: ApiHarness, model: type[Any]) -> int:
    async with api.angie.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def events_and_tasks(api: ApiHarness) -> tuple[int, int]:
    """How many events and tasks the database holds."""
    return await count_rows(api, Event), await count_rows(api, Task)


async def agent_id(api: ApiHarness, name: str) -> int:
    """The id of the agent called ``name`` (read from the database)."""
    async with api.angie.services.database.session() as session:
        return (await session.scalars(select(Agent.id).where(Agent.name == name))).one()


async def team_id(api: ApiHarness, name: str) -> int:
    """The id of the team called ``name`` (read from the database)."""
    async with api.angie.services.database.session() as session:
        return (await session.scalars(select(Team.id).where(Team.name == name))).one()


# -- making things through the API ----------------------------------------------------------------


async def make_agent(api: ApiHarness, account: Account, name: str, **fields: Any) -> dict[str, Any]:
    """An agent of ``account``'s own, over the Hue server unless ``servers`` says otherwise."""
    body = {"name": name, "servers": ["hue"], **fields}
    return json_body(await api.client.post("/api/agents", json=body, headers=account.headers), 201)


async def make_team(
    api: ApiHarness, account: Account, name: str, members: list[int], **fields: Any
) -> dict[str, Any]:
    body = {"name": name, "members": members, **fields}
    return json_body(await api.client.post("/api/teams", json=body, headers=account.headers), 201)


def step(name: str, instruction: str, **runner: Any) -> dict[str, Any]:
    """A workflow step; ``runner`` is its agent_id or team_id."""
    return {"name": name, "instruction": instruction, **runner}


async def make_workflow(
    api: ApiHarness, account: Account, name: str, steps: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    body = {"name": name, "steps": steps, **fields}
    made = await api.client.post("/api/workflows", json=body, headers=account.headers)
    return json_body(made, 201)


async def make_schedule(api: ApiHarness, account: Account, **fields: Any) -> dict[str, Any]:
    """A schedule named "doors" checking the doors at 22:00 UTC, unless ``fields`` differ."""
    body = {"name": "doors", "cron": "0 22 * * *", "instruction": "check the doors", **fields}
    made = await api.client.post("/api/schedules", json=body, headers=account.headers)
    return json_body(made, 201)


async def one_pending(approvals: ApprovalService, user_id: int | None = None) -> Approval:
    """The one pending approval: a task says it waits a moment before its approval is written,
    so this waits for the row rather than reading once."""
    deadline = time.monotonic() + 10
    while not (found := await approvals.pending(user_id)):
        assert time.monotonic() < deadline, "no approval was asked for"
        await asyncio.sleep(0.02)
    [approval] = found
    return approval
