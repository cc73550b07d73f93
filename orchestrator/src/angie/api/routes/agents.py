"""``/api/agents``: the household's built-in agents and each person's own.

Built-in agents (no creator) are visible to everyone and changed only by admins; an agent a
person creates is theirs alone: to anyone else it does not exist.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import AfterValidator, Field, StringConstraints, field_validator
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from angie.agents.fleet import availability
from angie.api.deps import AngieDep, CurrentUser, SessionDep
from angie.api.errors import ApiError, Conflict, Forbidden, NotFound
from angie.api.schemas import Body, ListParams, Out, Page, order_by, paginate
from angie.db.models import Agent, McpServer, Schedule, User, Workflow, WorkflowStep

__all__ = (
    "AgentIn",
    "AgentOut",
    "AgentPatch",
    "FleetName",
    "Id",
    "ToolFilter",
    "in_use",
    "invalid",
    "matching",
    "router",
    "visible_to",
)

router = APIRouter(prefix="/agents", tags=["agents"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def matching(pattern: str, message: str) -> AfterValidator:
    """A check against ``pattern`` whose error says what is expected in words."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


# Angie asks an agent through a tool named ask_<name> (a team: ask_team_<name>).
FleetName = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    matching(
        r"[a-z][a-z0-9_]{1,63}",
        "must be 2 to 64 lower-case letters, digits or _, starting with a letter",
    ),
]
# A glob over prefixed tool names ("hue_*"), "!" in front to exclude.
ToolGlob = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    matching(
        r"!?[A-Za-z0-9_.*?\[\]!-]{1,128}",
        "must be a glob over tool names such as hue_* or !hue_pair",
    ),
]
ToolFilter = Annotated[list[ToolGlob], Field(max_length=50)]
ServerName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,63}$")
]
ModelName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,254}$")
]
Description = Annotated[str, Field(max_length=2000)]
Prompt = Annotated[str, Field(max_length=100_000)]


def invalid(field: str, message: str) -> ApiError:
    """A 422 about one body field, shaped like FastAPI's own validation errors."""
    return ApiError(
        f"body: {field}: {message}",
        status=422,
        details=[{"field": f"body: {field}", "message": message}],
    )


def _not_team_prefixed(name: str | None) -> str | None:
    if name is not None and name.startswith("team_"):
        raise ValueError("an agent's name cannot start with team_ (Angie asks teams that way)")
    return name


class AgentIn(Body):
    name: FleetName = Field(description="Lower-case letters, digits and _; Angie asks it by name.")
    description: Description = ""
    prompt: Prompt = Field(default="", description="Its AGENT_PROMPT.")
    tool_filter: ToolFilter = Field(
        default_factory=list, description='Globs over tool names: ["hue_*", "!hue_pair"].'
    )
    model: ModelName | None = Field(default=None, description="Its own model; null: Angie's.")
    enabled: bool = True
    servers: list[ServerName] = Field(
        min_length=1, max_length=20, description="The MCP servers whose tools it uses."
    )

    _name = field_validator("name")(_not_team_prefixed)


class AgentPatch(Body):
    name: FleetName | None = None
    description: Description | None = None
    prompt: Prompt | None = None
    tool_filter: ToolFilter | None = None
    model: ModelName | None = None
    enabled: bool | None = None
    servers: list[ServerName] | None = Field(default=None, min_length=1, max_length=20)

    _name = field_validator("name")(_not_team_prefixed)


class AgentOut(Out):
    id: int
    name: str
    description: str
    prompt: str
    tool_filter: list[str]
    model: str | None
    enabled: bool
    builtin: bool
    shared: bool = Field(description="A household agent (no creator): only admins change it.")
    servers: list[str] = Field(description="By name.")
    available: bool = Field(description="At least one of its servers is enabled here.")
    unavailable_reason: str
    created_at: datetime
    updated_at: datetime


def visible_to(user: User) -> ColumnElement[bool]:
    """Household agents and the person's own."""
    return or_(Agent.created_by_id.is_(None), Agent.created_by_id == user.id)


def agent_out(agent: Agent, installed: set[str]) -> AgentOut:
    # The link table keeps no order: by name, so every read shows the same list.
    servers = sorted(s.name for s in agent.servers)
    state = availability(servers, installed)
    return AgentOut(
        id=agent.id,
        name=agent.name,
        description=agent.description,
        prompt=agent.prompt,
        tool_filter=list(agent.tool_filter),
        model=agent.model,
        enabled=agent.enabled,
        builtin=agent.builtin,
        shared=agent.created_by_id is None,
        servers=servers,
        available=state.available,
        unavailable_reason=state.reason,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
    )


async def visible_agent(session: AsyncSession, user: User, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.created_by_id not in (None, user.id):
        raise NotFound(f"there is no agent {agent_id}")
    return agent


async def _servers(session: AsyncSession, names: list[str]) -> list[McpServer]:
    wanted = list(dict.fromkeys(names))
    rows = {
        row.name: row
        for row in await session.scalars(select(McpServer).where(McpServer.name.in_(wanted)))
    }
    unknown = [n for n in wanted if n not in rows]
    if unknown:
        known = ", ".join(await session.scalars(select(McpServer.name).order_by(McpServer.name)))
        raise invalid(
            "servers", f"there is no MCP server {unknown[0]!r} (known: {known or 'none'})"
        )
    return [rows[n] for n in wanted]


async def _name_free(session: AsyncSession, name: str, agent_id: int | None = None) -> None:
    taken = await session.scalar(select(Agent.id).where(Agent.name == name))
    if taken is not None and taken != agent_id:
        raise Conflict(f"an agent named {name!r} already exists")


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as err:
        # Two requests raced for the same name; the database kept one.
        raise Conflict(f"an agent named {name!r} already exists") from err


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


async def in_use(
    session: AsyncSession,
    user: User,
    step_column: InstrumentedAttribute[Any] | None,
    schedule_column: InstrumentedAttribute[Any],
    target_id: int,
) -> str | None:
    """What still runs the target (workflows, schedules), named where they are the person's."""
    parts: list[str] = []
    if step_column is not None:
        workflows = (
            await session.execute(
                select(Workflow.name, Workflow.user_id)
                .join(WorkflowStep, WorkflowStep.workflow_id == Workflow.id)
                .where(step_column == target_id)
                .distinct()
            )
        ).all()
        parts += [f"workflow {name!r}" for name, owner in workflows if owner == user.id]
        others = sum(1 for _, owner in workflows if owner != user.id)
        if others:
            parts.append(_plural(others, "workflow") + " of other people")
    schedules = (
        await session.execute(
            select(Schedule.name, Schedule.user_id).where(schedule_column == target_id)
        )
    ).all()
    parts += [f"schedule {name!r}" for name, owner in schedules if owner == user.id]
    others = sum(1 for _, owner in schedules if owner != user.id)
    if others:
        parts.append(_plural(others, "schedule") + " of other people")
    return ", ".join(parts) or None


@router.get("", operation_id="list_agents")
async def list_agents(
    user: CurrentUser,
    session: SessionDep,
    angie: AngieDep,
    params: ListParams,
    enabled: bool | None = None,
    builtin: bool | None = None,
    q: Annotated[str | None, Query(max_length=64, description="Part of the name.")] = None,
) -> Page[AgentOut]:
    """The agents you can use: the household's built-in ones and your own."""
    stmt = select(Agent).where(visible_to(user))
    if enabled is not None:
        stmt = stmt.where(Agent.enabled.is_(enabled))
    if builtin is not None:
        stmt = stmt.where(Agent.builtin.is_(builtin))
    if q:
        stmt = stmt.where(Agent.name.contains(q.strip().lower(), autoescape=True))
    stmt = order_by(
        stmt,
        params.sort,
        {"name": Agent.name, "created_at": Agent.created_at},
        "name",
        Agent.id,
    )
    rows, total = await paginate(session, stmt, params)
    installed = angie.toolbox.installed()
    return Page(
        items=[agent_out(r, installed) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/{agent_id}", operation_id="get_agent")
async def get_agent(
    agent_id: Id, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> AgentOut:
    """One agent, with whether it can run on this machine."""
    agent = await visible_agent(session, user, agent_id)
    return agent_out(agent, angie.toolbox.installed())


@router.post(
    "",
    operation_id="create_agent",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The name is taken"}},
)
async def create_agent(
    body: AgentIn, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> AgentOut:
    """Create an agent of your own over some MCP servers; only you see it."""
    await _name_free(session, body.name)
    agent = Agent(
        name=body.name,
        description=body.description,
        prompt=body.prompt,
        tool_filter=list(body.tool_filter),
        model=body.model,
        enabled=body.enabled,
        builtin=False,
        created_by_id=user.id,
        servers=await _servers(session, body.servers),
    )
    session.add(agent)
    await _flush(session, body.name)
    return agent_out(agent, angie.toolbox.installed())


@router.patch(
    "/{agent_id}",
    operation_id="update_agent",
    responses={403: {"description": "A household agent"}, 409: {"description": "Conflict"}},
)
async def update_agent(
    agent_id: Id, body: AgentPatch, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> AgentOut:
    """Change an agent: your own, or (admins) a household one."""
    agent = await visible_agent(session, user, agent_id)
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None and key != "model":
            raise invalid(key, "cannot be null")
    if agent.created_by_id is None and not user.is_admin:
        raise Forbidden("only an admin can change a household agent")
    if agent.builtin:
        # Its name and servers are the fleet's: Angie's prompts and the seeds rely on them.
        fixed = []
        if "name" in changes and changes["name"] != agent.name:
            fixed.append("name")
        if "servers" in changes and set(changes["servers"]) != {s.name for s in agent.servers}:
            fixed.append("servers")
        if fixed:
            raise Conflict(f"a built-in agent keeps its {' and '.join(fixed)}")
    if "name" in changes:
        await _name_free(session, changes["name"], agent.id)
    if "servers" in changes:
        agent.servers = await _servers(session, changes.pop("servers"))
    for key, value in changes.items():
        setattr(agent, key, value)
    await _flush(session, agent.name)
    return agent_out(agent, angie.toolbox.installed())


@router.delete(
    "/{agent_id}",
    operation_id="delete_agent",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "A household agent"}, 409: {"description": "In use"}},
)
async def delete_agent(agent_id: Id, user: CurrentUser, session: SessionDep) -> None:
    """Delete an agent no workflow or schedule uses (built-in agents can only be disabled)."""
    agent = await visible_agent(session, user, agent_id)
    if agent.builtin:
        raise Conflict("a built-in agent can be disabled, not deleted")
    if agent.created_by_id is None and not user.is_admin:
        raise Forbidden("only an admin can delete a household agent")
    users = await in_use(session, user, WorkflowStep.agent_id, Schedule.agent_id, agent.id)
    if users:
        raise Conflict(
            f"agent {agent.name!r} is used by {users}; change or delete those first",
            details=[{"field": "agent_id", "message": users}],
        )
    await session.delete(agent)
    try:
        await session.flush()
    except IntegrityError as err:
        # A workflow step or schedule took it up since the check (RESTRICT keeps it).
        raise Conflict(f"agent {agent.name!r} is in use; change what uses it first") from err
