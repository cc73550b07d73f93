"""``/api/workflows``: a person's workflows (ordered steps, each run by an agent or a team) and
running one on demand."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, status
from jinja2 import TemplateSyntaxError
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.paging import page_of
from angie.api.schemas import Body, ListParams, Out, Page, order_by, paginate
from angie.api.validation import (
    Description,
    PathId,
    RowId,
    UniqueName,
    invalid,
    reject_nulls,
)
from angie.api.visibility import (
    agents_visible_to,
    check_may_change,
    delete_unless_used,
    teams_visible_to,
    visible,
    workflows_visible_to,
)
from angie.db.models import (
    Agent,
    EventType,
    OnFailure,
    Schedule,
    Team,
    User,
    Workflow,
    WorkflowStep,
)
from angie.errors import Conflict
from angie.events.router import NewEvent
from angie.prompts.sandbox import TemplateLimit
from angie.workflows.render import TEMPLATES, check_instruction

__all__ = ("RunIn", "RunOut", "StepIn", "WorkflowIn", "WorkflowOut", "WorkflowPatch", "router")

router = APIRouter(prefix="/workflows", tags=["workflows"])
_NAMES = UniqueName(
    Workflow.id, Workflow.name, "you already have a workflow named {name!r}", Workflow.user_id
)

StepName = Annotated[str, Field(min_length=1, max_length=120)]


class StepIn(Body):
    name: StepName = Field(description="Later steps read its output as {{ steps['<name>'] }}.")
    agent_id: RowId | None = None
    team_id: RowId | None = None
    instruction: str = Field(
        min_length=1,
        max_length=20_000,
        description="A Jinja2 template over event, input, steps and previous.",
    )
    on_failure: OnFailure = OnFailure.STOP
    max_retries: int = Field(default=0, ge=0, le=10, description="Used when on_failure=retry.")

    @field_validator("instruction")
    @classmethod
    def _compiles(cls, value: str) -> str:
        # The environment the workflow engine renders with, so what compiles here renders there.
        try:
            TEMPLATES.from_string(value)
        except TemplateSyntaxError as err:
            raise ValueError(f"not a valid template: {err.message} (line {err.lineno})") from err
        except TemplateLimit as err:
            raise ValueError(f"too big a template: {err.message}") from err
        return value

    @model_validator(mode="after")
    def _one_runner(self) -> Self:
        if (self.agent_id is None) == (self.team_id is None):
            raise ValueError("a step is run by exactly one of agent_id or team_id")
        return self


Steps = Annotated[list[StepIn], Field(min_length=1, max_length=50)]


class WorkflowIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    description: Description = ""
    enabled: bool = True
    steps: Steps


class WorkflowPatch(Body):
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    description: Description | None = None
    enabled: bool | None = None
    steps: Steps | None = Field(default=None, description="Replaces every step when given.")


class StepOut(BaseModel):
    id: int
    position: int
    name: str
    agent_id: int | None
    agent: str | None
    team_id: int | None
    team: str | None
    instruction: str
    on_failure: OnFailure
    max_retries: int


class WorkflowOut(Out):
    id: int
    name: str
    description: str
    enabled: bool
    steps: list[StepOut]
    created_at: datetime
    updated_at: datetime


class RunIn(Body):
    input: dict[str, Any] = Field(
        default_factory=dict,
        description="Data for the steps, read in templates as {{ event.payload.input.<key> }}.",
    )


class RunOut(BaseModel):
    event_id: int
    task_id: int


async def _names(
    session: AsyncSession, workflows: list[Workflow]
) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the agents and teams the workflows' steps use, in two queries."""
    agent_ids = {s.agent_id for w in workflows for s in w.steps if s.agent_id is not None}
    team_ids = {s.team_id for w in workflows for s in w.steps if s.team_id is not None}
    agents: dict[int, str] = {}
    teams: dict[int, str] = {}
    if agent_ids:
        found = await session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids)))
        agents = {row.id: row.name for row in found}
    if team_ids:
        found = await session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
        teams = {row.id: row.name for row in found}
    return agents, teams


def _out(workflow: Workflow, agents: dict[int, str], teams: dict[int, str]) -> WorkflowOut:
    return WorkflowOut(
        id=workflow.id,
        name=workflow.name,
        description=workflow.description,
        enabled=workflow.enabled,
        steps=[
            StepOut(
                id=s.id,
                position=s.position,
                name=s.name,
                agent_id=s.agent_id,
                agent=agents.get(s.agent_id) if s.agent_id is not None else None,
                team_id=s.team_id,
                team=teams.get(s.team_id) if s.team_id is not None else None,
                instruction=s.instruction,
                on_failure=s.on_failure,
                max_retries=s.max_retries,
            )
            for s in workflow.steps
        ],
        created_at=workflow.created_at,
        updated_at=workflow.updated_at,
    )


async def _one_out(session: AsyncSession, workflow: Workflow) -> WorkflowOut:
    agents, teams = await _names(session, [workflow])
    return _out(workflow, agents, teams)


def _too_big(steps: list[StepIn]) -> tuple[int, str] | None:
    """The first step whose instruction goes over a template bound whatever the event, and why."""
    for position, step in enumerate(steps):
        try:
            check_instruction(step.instruction)
        except TemplateLimit as err:
            return position, str(err.message)
    return None


async def _steps(session: AsyncSession, user: User, steps: list[StepIn]) -> list[WorkflowStep]:
    """New step rows; every agent and team must be one the person can see, and no instruction
    may go over a template bound (tried in a thread: a bad one takes up to its time bound)."""
    too_big = await asyncio.to_thread(_too_big, steps)
    if too_big is not None:
        position, why = too_big
        raise invalid(f"steps.{position}.instruction", f"the instruction is too big: {why}")
    names = [s.name for s in steps]
    for name in names:
        if names.count(name) > 1:
            raise invalid(
                "steps", f"two steps are named {name!r}; later steps read outputs by name"
            )
    agent_ids = {s.agent_id for s in steps if s.agent_id is not None}
    team_ids = {s.team_id for s in steps if s.team_id is not None}
    agents = set(
        await session.scalars(
            select(Agent.id).where(Agent.id.in_(agent_ids), agents_visible_to(user))
        )
    )
    teams = set(
        await session.scalars(select(Team.id).where(Team.id.in_(team_ids), teams_visible_to(user)))
    )
    rows = []
    for position, step in enumerate(steps):
        if step.agent_id is not None and step.agent_id not in agents:
            raise invalid(f"steps.{position}.agent_id", f"there is no agent {step.agent_id}")
        if step.team_id is not None and step.team_id not in teams:
            raise invalid(f"steps.{position}.team_id", f"there is no team {step.team_id}")
        rows.append(
            WorkflowStep(
                position=position,
                name=step.name,
                agent_id=step.agent_id,
                team_id=step.team_id,
                instruction=step.instruction,
                on_failure=step.on_failure,
                max_retries=step.max_retries,
            )
        )
    return rows


@router.get("", operation_id="list_workflows")
async def list_workflows(
    user: CurrentUser, session: SessionDep, params: ListParams, enabled: bool | None = None
) -> Page[WorkflowOut]:
    """Your workflows with their steps."""
    stmt = select(Workflow).where(workflows_visible_to(user))
    if enabled is not None:
        stmt = stmt.where(Workflow.enabled.is_(enabled))
    stmt = order_by(
        stmt,
        params.sort,
        {"name": Workflow.name, "created_at": Workflow.created_at},
        "name",
        Workflow.id,
    )
    rows, total = await paginate(session, stmt, params)
    agents, teams = await _names(session, rows)
    return page_of([_out(r, agents, teams) for r in rows], total, params)


@router.get("/{workflow_id}", operation_id="get_workflow")
async def get_workflow(workflow_id: PathId, user: CurrentUser, session: SessionDep) -> WorkflowOut:
    """One of your workflows with its steps in order."""
    return await _one_out(session, await visible(session, Workflow, workflow_id, user))


@router.post(
    "",
    operation_id="create_workflow",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The name is taken"}},
)
async def create_workflow(body: WorkflowIn, user: CurrentUser, session: SessionDep) -> WorkflowOut:
    """Create a workflow: steps run in order, each by an agent or a team."""
    await _NAMES.check(session, body.name, owner=user.id)
    workflow = Workflow(
        **body.model_dump(exclude={"steps"}),
        user_id=user.id,
        steps=await _steps(session, user, body.steps),
    )
    session.add(workflow)
    await _NAMES.flush(session, body.name)
    return await _one_out(session, workflow)


@router.patch(
    "/{workflow_id}", operation_id="update_workflow", responses={409: {"description": "Taken"}}
)
async def update_workflow(
    workflow_id: PathId, body: WorkflowPatch, user: CurrentUser, session: SessionDep
) -> WorkflowOut:
    """Change one of your workflows (a household one: admins); `steps`, when given, replaces all
    of them."""
    workflow = await visible(session, Workflow, workflow_id, user)
    check_may_change(workflow, user)
    reject_nulls(body.model_dump(exclude_unset=True))
    changes = body.model_dump(exclude_unset=True, exclude={"steps"})
    if body.steps is not None:
        steps = await _steps(session, user, body.steps)
        # The old steps go first: (workflow, position) is unique.
        workflow.steps.clear()
        await session.flush()
        workflow.steps.extend(steps)
    if "name" in changes:
        await _NAMES.check(session, changes["name"], owner=workflow.user_id, keep=workflow.id)
    for key, value in changes.items():
        setattr(workflow, key, value)
    await _NAMES.flush(session, workflow.name)
    return await _one_out(session, workflow)


@router.delete(
    "/{workflow_id}",
    operation_id="delete_workflow",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "A schedule runs it"}},
)
async def delete_workflow(workflow_id: PathId, user: CurrentUser, session: SessionDep) -> None:
    """Delete one of your workflows (a household one: admins) that no schedule runs."""
    workflow = await visible(session, Workflow, workflow_id, user)
    check_may_change(workflow, user, "delete")
    await delete_unless_used(
        session,
        user,
        workflow,
        step_column=None,
        schedule_column=Schedule.workflow_id,
        used="is run by",
    )


@router.post(
    "/{workflow_id}/run",
    operation_id="run_workflow",
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"description": "Disabled or without steps"}},
)
async def run_workflow(
    workflow_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
    body: RunIn | None = None,
) -> RunOut:
    """Run one of your workflows, or a household one, now; follow its task for the outcome."""
    workflow = await visible(session, Workflow, workflow_id, user)
    if not workflow.enabled:
        raise Conflict(f"workflow {workflow.name!r} is disabled; enable it to run it")
    if not workflow.steps:
        raise Conflict(f"workflow {workflow.name!r} has no steps")
    route = await services.submit(
        NewEvent(
            EventType.API,
            source="api",
            user_id=user.id,
            payload={"workflow_id": workflow.id, "input": body.input if body else {}},
        )
    )
    if route.task is None:
        raise Conflict("Angie's event rules ignored this run")
    return RunOut(event_id=route.event.id, task_id=route.task.id)
