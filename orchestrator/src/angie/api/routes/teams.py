"""``/api/teams``: bundles of agents Angie asks as one (``ask_team_<name>``).

As with agents: household teams (no creator) are everyone's and changed only by admins; a team a
person creates is theirs alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from angie.agents.fleet import availability
from angie.api.deps import AngieDep, CurrentUser, SessionDep
from angie.api.errors import Conflict, Forbidden, NotFound
from angie.api.routes.agents import FleetName as TeamName
from angie.api.routes.agents import Id, ToolFilter, in_use, invalid
from angie.api.schemas import Body, ListParams, Out, Page, order_by, paginate
from angie.db.models import Agent, Schedule, Team, TeamMember, User, WorkflowStep

__all__ = ("TeamIn", "TeamOut", "TeamPatch", "router", "visible_to")

router = APIRouter(prefix="/teams", tags=["teams"])

Members = Annotated[
    list[Annotated[int, Field(ge=1, le=2**31 - 1)]],
    Field(min_length=1, max_length=20, description="Agent ids, in the order they are listed."),
]


class TeamIn(Body):
    name: TeamName = Field(
        description="Lower-case letters, digits and _; asked as ask_team_<name>."
    )
    description: Annotated[str, Field(max_length=2000)] = ""
    prompt: Annotated[str, Field(max_length=100_000)] = ""
    tool_filter: ToolFilter = Field(
        default_factory=list, description="Globs over the members' combined tool names."
    )
    enabled: bool = True
    members: Members


class TeamPatch(Body):
    name: TeamName | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    prompt: Annotated[str, Field(max_length=100_000)] | None = None
    tool_filter: ToolFilter | None = None
    enabled: bool | None = None
    members: Members | None = None


class MemberOut(BaseModel):
    agent_id: int
    name: str


class TeamOut(Out):
    id: int
    name: str
    description: str
    prompt: str
    tool_filter: list[str]
    enabled: bool
    builtin: bool = Field(description="A household team (no creator): only admins change it.")
    members: list[MemberOut]
    available: bool = Field(description="At least one member's server is enabled here.")
    unavailable_reason: str
    created_at: datetime
    updated_at: datetime


def visible_to(user: User) -> ColumnElement[bool]:
    """Household teams and the person's own."""
    return or_(Team.created_by_id.is_(None), Team.created_by_id == user.id)


def team_out(team: Team, installed: set[str]) -> TeamOut:
    agents = [m.agent for m in team.members]
    state = availability([s.name for a in agents for s in a.servers], installed)
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        prompt=team.prompt,
        tool_filter=list(team.tool_filter),
        enabled=team.enabled,
        builtin=team.created_by_id is None,
        members=[MemberOut(agent_id=a.id, name=a.name) for a in agents],
        available=state.available,
        unavailable_reason=state.reason,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


async def _team(session: AsyncSession, user: User, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None or team.created_by_id not in (None, user.id):
        raise NotFound(f"there is no team {team_id}")
    return team


async def _members(
    session: AsyncSession, user: User, agent_ids: list[int], *, household: bool
) -> list[TeamMember]:
    """The members in order; each must be an agent the team's owner can see."""
    if len(set(agent_ids)) != len(agent_ids):
        raise invalid("members", "an agent can be in a team only once")
    agents = {a.id: a for a in await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))}
    for agent_id in agent_ids:
        agent = agents.get(agent_id)
        if agent is None or agent.created_by_id not in (None, user.id):
            raise invalid("members", f"there is no agent {agent_id}")
        if household and agent.created_by_id is not None:
            # Everyone sees a household team's members: a private agent cannot be one.
            raise invalid(
                "members",
                f"agent {agent.name!r} is yours alone; a household team "
                "can only have household agents",
            )
    return [TeamMember(agent=agents[a], position=i) for i, a in enumerate(agent_ids)]


async def _name_free(session: AsyncSession, name: str, team_id: int | None = None) -> None:
    taken = await session.scalar(select(Team.id).where(Team.name == name))
    if taken is not None and taken != team_id:
        raise Conflict(f"a team named {name!r} already exists")


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as err:
        raise Conflict(f"a team named {name!r} already exists") from err


@router.get("", operation_id="list_teams")
async def list_teams(
    user: CurrentUser,
    session: SessionDep,
    angie: AngieDep,
    params: ListParams,
    enabled: bool | None = None,
    builtin: bool | None = None,
    q: Annotated[str | None, Query(max_length=64, description="Part of the name.")] = None,
) -> Page[TeamOut]:
    """The teams you can use: the household's and your own."""
    stmt = select(Team).where(visible_to(user))
    if enabled is not None:
        stmt = stmt.where(Team.enabled.is_(enabled))
    if builtin is not None:
        stmt = stmt.where(
            Team.created_by_id.is_(None) if builtin else Team.created_by_id.isnot(None)
        )
    if q:
        stmt = stmt.where(Team.name.contains(q.strip().lower(), autoescape=True))
    stmt = order_by(
        stmt, params.sort, {"name": Team.name, "created_at": Team.created_at}, "name", Team.id
    )
    rows, total = await paginate(session, stmt, params)
    installed = angie.toolbox.installed()
    return Page(
        items=[team_out(r, installed) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/{team_id}", operation_id="get_team")
async def get_team(team_id: Id, user: CurrentUser, session: SessionDep, angie: AngieDep) -> TeamOut:
    """One team with its members in order."""
    return team_out(await _team(session, user, team_id), angie.toolbox.installed())


@router.post(
    "",
    operation_id="create_team",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The name is taken"}},
)
async def create_team(
    body: TeamIn, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> TeamOut:
    """Create a team of your own from agents you can see; only you see it."""
    await _name_free(session, body.name)
    team = Team(
        name=body.name,
        description=body.description,
        prompt=body.prompt,
        tool_filter=list(body.tool_filter),
        enabled=body.enabled,
        created_by_id=user.id,
    )
    team.members = await _members(session, user, body.members, household=False)
    session.add(team)
    await _flush(session, body.name)
    return team_out(team, angie.toolbox.installed())


@router.patch(
    "/{team_id}",
    operation_id="update_team",
    responses={403: {"description": "A household team"}, 409: {"description": "Conflict"}},
)
async def update_team(
    team_id: Id, body: TeamPatch, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> TeamOut:
    """Change a team: your own, or (admins) a household one; `members` replaces the list."""
    team = await _team(session, user, team_id)
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            raise invalid(key, "cannot be null")
    household = team.created_by_id is None
    if household and not user.is_admin:
        raise Forbidden("only an admin can change a household team")
    if household and "name" in changes and changes["name"] != team.name:
        raise Conflict("a built-in team keeps its name")
    if "name" in changes:
        await _name_free(session, changes["name"], team.id)
    if "members" in changes:
        members = await _members(session, user, changes.pop("members"), household=household)
        # Old rows go first: (team, position) and (team, agent) are unique.
        team.members.clear()
        await session.flush()
        team.members.extend(members)
    for key, value in changes.items():
        setattr(team, key, value)
    await _flush(session, team.name)
    return team_out(team, angie.toolbox.installed())


@router.delete(
    "/{team_id}",
    operation_id="delete_team",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "Built in, or in use"}},
)
async def delete_team(team_id: Id, user: CurrentUser, session: SessionDep) -> None:
    """Delete one of your teams that no workflow or schedule uses."""
    team = await _team(session, user, team_id)
    if team.created_by_id is None:
        raise Conflict("a built-in team can be disabled, not deleted")
    users = await in_use(session, user, WorkflowStep.team_id, Schedule.team_id, team.id)
    if users:
        raise Conflict(
            f"team {team.name!r} is used by {users}; change or delete those first",
            details=[{"field": "team_id", "message": users}],
        )
    await session.delete(team)
    try:
        await session.flush()
    except IntegrityError as err:
        raise Conflict(f"team {team.name!r} is in use; change what uses it first") from err
