"""``/api/agents``: the household's built-in agents and each person's own.

Built-in agents (no creator) are visible to everyone and changed only by admins; an agent a
person creates is theirs alone: to anyone else it does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import Field, StringConstraints, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.agents.fleet import availability
from angie.api.deps import CurrentUser, SessionDep, ToolboxDep
from angie.api.paging import query_page
from angie.api.schemas import Body, ListParams, Out, Page, order_by
from angie.api.validation import (
    Description,
    FleetName,
    NameQuery,
    PathId,
    PromptText,
    ToolFilter,
    UniqueName,
    invalid,
    reject_nulls,
)
from angie.api.visibility import (
    agents_visible_to,
    check_may_change,
    delete_unless_used,
    visible,
)
from angie.db.models import Agent, McpServer, Schedule, WorkflowStep
from angie.errors import Conflict

__all__ = ("AgentIn", "AgentOut", "AgentPatch", "router")

router = APIRouter(prefix="/agents", tags=["agents"])
_NAMES = UniqueName(Agent.id, Agent.name, "an agent named {name!r} already exists")

ServerName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,63}$")
]
ModelName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,254}$")
]


def _not_team_prefixed(name: str | None) -> str | None:
    if name is not None and name.startswith("team_"):
        raise ValueError("an agent's name cannot start with team_ (Angie asks teams that way)")
    return name


class AgentLimits(Body):
    """An agent's own per-run limits; a field left out follows Angie's settings."""

    model_requests: int | None = Field(default=None, ge=1, le=1_000)
    tool_calls: int | None = Field(default=None, ge=1, le=10_000)
    tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    seconds: int | None = Field(
        default=None, ge=10, le=86_400, description="Wall-clock seconds one run may take."
    )


def _limits(limits: AgentLimits | None) -> dict[str, int] | None:
    chosen = limits.model_dump(exclude_none=True) if limits is not None else {}
    return chosen or None


class AgentIn(Body):
    name: FleetName = Field(description="Lower-case letters, digits and _; Angie asks it by name.")
    description: Description = ""
    prompt: PromptText = Field(default="", description="Its AGENT_PROMPT.")
    tool_filter: ToolFilter = Field(
        default_factory=list, description='Globs over tool names: ["hue_*", "!hue_pair"].'
    )
    model: ModelName | None = Field(default=None, description="Its own model; null: Angie's.")
    limits: AgentLimits | None = Field(
        default=None, description="Its own per-run limits; null: Angie's (ANGIE_MAX_*)."
    )
    enabled: bool = True
    servers: list[ServerName] = Field(
        min_length=1, max_length=20, description="The MCP servers whose tools it uses."
    )

    _name = field_validator("name")(_not_team_prefixed)


class AgentPatch(Body):
    name: FleetName | None = None
    description: Description | None = None
    prompt: PromptText | None = None
    tool_filter: ToolFilter | None = None
    model: ModelName | None = None
    limits: AgentLimits | None = None
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
    limits: dict[str, int] | None = Field(description="Its own per-run limits; null: Angie's.")
    enabled: bool
    builtin: bool
    shared: bool = Field(description="A household agent (no creator): only admins change it.")
    servers: list[str] = Field(description="By name.")
    available: bool = Field(description="At least one of its servers is enabled here.")
    unavailable_reason: str
    created_at: datetime
    updated_at: datetime


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
        limits=agent.limits or None,
        enabled=agent.enabled,
        builtin=agent.builtin,
        shared=agent.user_id is None,
        servers=servers,
        available=state.available,
        unavailable_reason=state.reason,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
    )


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


@router.get("", operation_id="list_agents")
async def list_agents(
    user: CurrentUser,
    session: SessionDep,
    toolbox: ToolboxDep,
    params: ListParams,
    enabled: bool | None = None,
    builtin: bool | None = None,
    q: NameQuery = None,
) -> Page[AgentOut]:
    """The agents you can use: the household's built-in ones and your own."""
    stmt = select(Agent).where(agents_visible_to(user))
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
    installed = toolbox.installed()
    return await query_page(session, stmt, params, lambda row: agent_out(row, installed))


@router.get("/{agent_id}", operation_id="get_agent")
async def get_agent(
    agent_id: PathId, user: CurrentUser, session: SessionDep, toolbox: ToolboxDep
) -> AgentOut:
    """One agent, with whether it can run on this machine."""
    agent = await visible(session, Agent, agent_id, user)
    return agent_out(agent, toolbox.installed())


@router.post(
    "",
    operation_id="create_agent",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The name is taken"}},
)
async def create_agent(
    body: AgentIn, user: CurrentUser, session: SessionDep, toolbox: ToolboxDep
) -> AgentOut:
    """Create an agent of your own over some MCP servers; only you see it."""
    await _NAMES.check(session, body.name)
    agent = Agent(
        **body.model_dump(exclude={"servers", "limits"}),
        limits=_limits(body.limits),
        builtin=False,
        user_id=user.id,
        servers=await _servers(session, body.servers),
    )
    session.add(agent)
    await _NAMES.flush(session, body.name)
    return agent_out(agent, toolbox.installed())


@router.patch(
    "/{agent_id}",
    operation_id="update_agent",
    responses={403: {"description": "A household agent"}, 409: {"description": "Conflict"}},
)
async def update_agent(
    agent_id: PathId,
    body: AgentPatch,
    user: CurrentUser,
    session: SessionDep,
    toolbox: ToolboxDep,
) -> AgentOut:
    """Change an agent: your own, or (admins) a household one."""
    agent = await visible(session, Agent, agent_id, user)
    changes = body.model_dump(exclude_unset=True)
    reject_nulls(changes, nullable=("model", "limits"))
    check_may_change(agent, user)
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
        await _NAMES.check(session, changes["name"], keep=agent.id)
    if "servers" in changes:
        agent.servers = await _servers(session, changes.pop("servers"))
    if "limits" in changes:
        changes.pop("limits")
        agent.limits = _limits(body.limits)
    for key, value in changes.items():
        setattr(agent, key, value)
    await _NAMES.flush(session, agent.name)
    return agent_out(agent, toolbox.installed())


@router.delete(
    "/{agent_id}",
    operation_id="delete_agent",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "A household agent"}, 409: {"description": "In use"}},
)
async def delete_agent(agent_id: PathId, user: CurrentUser, session: SessionDep) -> None:
    """Delete an agent no workflow or schedule uses (built-in agents can only be disabled)."""
    agent = await visible(session, Agent, agent_id, user)
    if agent.builtin:
        raise Conflict("a built-in agent can be disabled, not deleted")
    check_may_change(agent, user, "delete")
    await delete_unless_used(
        session,
        user,
        agent,
        step_column=WorkflowStep.agent_id,
        schedule_column=Schedule.agent_id,
    )
