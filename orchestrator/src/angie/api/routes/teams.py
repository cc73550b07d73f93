"""``/api/teams``: bundles of agents Angie asks as one (``ask_team_<name>``).

As with agents: household teams (no creator) are everyone's and changed only by admins; a team a
person creates is theirs alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.agents.fleet import availability
from angie.api.deps import CurrentUser, SessionDep, ToolboxDep
from angie.api.paging import query_page
from angie.api.schemas import Body, ListParams, Out, Page, order_by
from angie.api.validation import (
    Description,
    NameQuery,
    PathId,
    PromptText,
    RowId,
    ToolFilter,
    UniqueName,
    invalid,
    reject_nulls,
)
from angie.api.validation import FleetName as TeamName
from angie.api.visibility import (
    check_may_change,
    delete_unless_used,
    may_use,
    teams_visible_to,
    visible,
)
from angie.db.models import Agent, Schedule, Team, TeamMember, User, WorkflowStep
from angie.errors import Conflict

__all__ = ("TeamIn", "TeamOut", "TeamPatch", "router")

router = APIRouter(prefix="/teams", tags=["teams"])
_NAMES = UniqueName(Team.id, Team.name, "a team named {name!r} already exists")

Members = Annotated[
    list[RowId],
    Field(min_length=1, max_length=20, description="Agent ids, in the order they are listed."),
]


class TeamIn(Body):
    name: TeamName = Field(
        description="Lower-case letters, digits and _; asked as ask_team_<name>."
    )
    description: Description = ""
    prompt: PromptText = ""
    tool_filter: ToolFilter = Field(
        default_factory=list, description="Globs over the members' combined tool names."
    )
    enabled: bool = True
    members: Members


class TeamPatch(Body):
    name: TeamName | None = None
    description: Description | None = None
    prompt: PromptText | None = None
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
        builtin=team.user_id is None,
        members=[MemberOut(agent_id=a.id, name=a.name) for a in agents],
        available=state.available,
        unavailable_reason=state.reason,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


async def _members(
    session: AsyncSession, user: User, agent_ids: list[int], *, household: bool
) -> list[TeamMember]:
    """The members in order; each must be an agent the team's owner can see."""
    if len(set(agent_ids)) != len(agent_ids):
        raise invalid("members", "an agent can be in a team only once")
    agents = {a.id: a for a in await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))}
    for agent_id in agent_ids:
        agent = agents.get(agent_id)
        if agent is None or not may_use(agent, user):
            raise invalid("members", f"there is no agent {agent_id}")
        if household and agent.user_id is not None:
            # Everyone sees a household team's members: a private agent cannot be one.
            raise invalid(
                "members",
                f"agent {agent.name!r} is yours alone; a household team "
                "can only have household agents",
            )
    return [TeamMember(agent=agents[a], position=i) for i, a in enumerate(agent_ids)]


@router.get("", operation_id="list_teams")
async def list_teams(
    user: CurrentUser,
    session: SessionDep,
    toolbox: ToolboxDep,
    params: ListParams,
    enabled: bool | None = None,
    builtin: bool | None = None,
    q: NameQuery = None,
) -> Page[TeamOut]:
    """The teams you can use: the household's and your own."""
    stmt = select(Team).where(teams_visible_to(user))
    if enabled is not None:
        stmt = stmt.where(Team.enabled.is_(enabled))
    if builtin is not None:
        stmt = stmt.where(Team.user_id.is_(None) if builtin else Team.user_id.isnot(None))
    if q:
        stmt = stmt.where(Team.name.contains(q.strip().lower(), autoescape=True))
    stmt = order_by(
        stmt, params.sort, {"name": Team.name, "created_at": Team.created_at}, "name", Team.id
    )
    installed = toolbox.installed()
    return await query_page(session, stmt, params, lambda row: team_out(row, installed))


@router.get("/{team_id}", operation_id="get_team")
async def get_team(
    team_id: PathId, user: CurrentUser, session: SessionDep, toolbox: ToolboxDep
) -> TeamOut:
    """One team with its members in order."""
    return team_out(await visible(session, Team, team_id, user), toolbox.installed())


@router.post(
    "",
    operation_id="create_team",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The name is taken"}},
)
async def create_team(
    body: TeamIn, user: CurrentUser, session: SessionDep, toolbox: ToolboxDep
) -> TeamOut:
    """Create a team of your own from agents you can see; only you see it."""
    await _NAMES.check(session, body.name)
    team = Team(**body.model_dump(exclude={"members"}), user_id=user.id)
    team.members = await _members(session, user, body.members, household=False)
    session.add(team)
    await _NAMES.flush(session, body.name)
    return team_out(team, toolbox.installed())


@router.patch(
    "/{team_id}",
    operation_id="update_team",
    responses={403: {"description": "A household team"}, 409: {"description": "Conflict"}},
)
async def update_team(
    team_id: PathId, body: TeamPatch, user: CurrentUser, session: SessionDep, toolbox: ToolboxDep
) -> TeamOut:
    """Change a team: your own, or (admins) a household one; `members` replaces the list."""
    team = await visible(session, Team, team_id, user)
    changes = body.model_dump(exclude_unset=True)
    reject_nulls(changes)
    check_may_change(team, user)
    household = team.user_id is None
    if household and "name" in changes and changes["name"] != team.name:
        raise Conflict("a built-in team keeps its name")
    if "name" in changes:
        await _NAMES.check(session, changes["name"], keep=team.id)
    if "members" in changes:
        members = await _members(session, user, changes.pop("members"), household=household)
        # Old rows go first: (team, position) and (team, agent) are unique.
        team.members.clear()
        await session.flush()
        team.members.extend(members)
    for key, value in changes.items():
        setattr(team, key, value)
    await _NAMES.flush(session, team.name)
    return team_out(team, toolbox.installed())


@router.delete(
    "/{team_id}",
    operation_id="delete_team",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "Built in, or in use"}},
)
async def delete_team(team_id: PathId, user: CurrentUser, session: SessionDep) -> None:
    """Delete one of your teams that no workflow or schedule uses."""
    team = await visible(session, Team, team_id, user)
    if team.user_id is None:
        raise Conflict("a built-in team can be disabled, not deleted")
    await delete_unless_used(
        session,
        user,
        team,
        step_column=WorkflowStep.team_id,
        schedule_column=Schedule.team_id,
    )
