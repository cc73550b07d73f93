"""Planning: Angie splits a complex request into steps, shows the plan, then runs it.

Angie's ``make_plan`` tool takes a goal and steps, each an agent's or team's call, some after
others. The plan is checked (known and available agents, known steps, no cycle), kept in the
``plans`` table, and shown to the person as an approval before anything starts. Approved, it
runs as a task of its own (``workflows/plans.py``) whose steps are child tasks, in order, each
hearing the results of the steps it comes after (each asks for its own side effects as usual).
A step that fails stops the plan: the steps after it are not run and Angie hears which were
done and what failed, so she can tell the person or propose a new plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field
from pydantic_ai import ApprovalRequired, ModelRetry, RunContext, Tool
from sqlalchemy import select

from angie.agents.policy import approved_as_shown, args_hash
from angie.agents.runner import Roster, RosterEntry, TaskDeps
from angie.db.engine import Database
from angie.db.models import DELEGATIONS, Plan, PlanStatus

__all__ = (
    "MAX_STEPS",
    "PLAN_TOOL",
    "PlanStep",
    "PlanStore",
    "order_steps",
    "plan_tool",
    "step_request",
)

PLAN_TOOL: Final = "make_plan"
MAX_STEPS: Final = 12
# What a step is told of the steps it comes after, at most, each.
_EARLIER_RESULT_CHARS: Final = 4000
ASKED_BECAUSE: Final = "Angie shows you a plan before any of it starts"


class PlanStep(BaseModel):
    # Unknown keys are a mistake to send back: what the person approves is exactly what runs.
    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
            description="A short id for the step (lowercase, e.g. 'dim-lights'), unique in the "
            "plan, for other steps' `after`.",
        ),
    ]
    ask: Annotated[
        str,
        Field(
            min_length=1,
            max_length=80,
            description="Who does it: an agent's name (as in ask_<name>) or 'team_<name>' for "
            "a team.",
        ),
    ]
    request: Annotated[
        str,
        Field(
            min_length=1,
            max_length=4000,
            description="A complete instruction in plain words, with every detail it needs.",
        ),
    ]
    after: Annotated[
        list[str],
        Field(
            max_length=MAX_STEPS,
            description="Names of the steps that must finish first; their results are given "
            "to this step.",
        ),
    ] = []


@dataclass(frozen=True, slots=True)
class Ordered:
    step: PlanStep
    entry: RosterEntry


def _who(roster: Roster) -> dict[str, RosterEntry]:
    return {e.tool_name.removeprefix("ask_"): e for e in roster.entries}


def order_steps(steps: Sequence[PlanStep], roster: Roster) -> list[Ordered]:
    """The steps in an order that runs each after those it names (otherwise as given), or a
    :class:`ModelRetry` saying exactly what is wrong with the plan."""
    if not steps:
        raise ModelRetry("A plan needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise ModelRetry(f"A plan has at most {MAX_STEPS} steps; this one has {len(steps)}.")
    names = [s.name for s in steps]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ModelRetry(f"Step names must be unique: {', '.join(doubled)} is used twice.")
    who = _who(roster)
    entries: dict[str, RosterEntry] = {}
    for step in steps:
        entry = who.get(step.ask)
        if entry is None:
            known = ", ".join(sorted(n for n, e in who.items() if e.available)) or "none"
            raise ModelRetry(f"Step {step.name!r}: there is no agent or team {step.ask!r}. "
                             f"Who can do steps: {known}.")  # fmt: skip
        if not entry.available:
            raise ModelRetry(
                f"Step {step.name!r}: {step.ask} is not available here ({entry.reason})."
            )
        entries[step.name] = entry
        for before in step.after:
            if before == step.name:
                raise ModelRetry(f"Step {step.name!r} cannot come after itself.")
            if before not in names:
                raise ModelRetry(f"Step {step.name!r} comes after {before!r}, which is no step.")
    ordered: list[Ordered] = []
    done: set[str] = set()
    left = list(steps)
    while left:
        ready = [s for s in left if set(s.after) <= done]
        if not ready:
            circle = ", ".join(s.name for s in left)
            raise ModelRetry(f"These steps wait for each other in a circle: {circle}.")
        for step in ready:
            ordered.append(Ordered(step, entries[step.name]))
            done.add(step.name)
        left = [s for s in left if s.name not in done]
    return ordered


def step_request(request: str, after: Sequence[str], results: Mapping[str, str]) -> str:
    """A step's instruction with the results of the steps it comes after."""
    if not after:
        return request
    earlier = "\n\n".join(
        f"Result of step {name!r}:\n{results.get(name, '')[:_EARLIER_RESULT_CHARS]}"
        for name in after
    )
    return f"{request}\n\n{earlier}"


class PlanStore:
    """The ``plans`` table: a plan proposed once per tool call, its steps' progress."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def find_or_propose(
        self, task_id: int, call_id: str, goal: str, ordered: Sequence[Ordered]
    ) -> Plan:
        async with self.db.session() as session:
            plan = await session.scalar(
                select(Plan).where(Plan.task_id == task_id, Plan.tool_call_id == call_id)
            )
            if plan is None:
                plan = Plan(
                    task_id=task_id,
                    tool_call_id=call_id,
                    goal=goal,
                    status=PlanStatus.PROPOSED,
                    steps=[
                        {
                            "name": o.step.name,
                            "ask": o.step.ask,
                            "request": o.step.request,
                            "after": list(o.step.after),
                            "kind": o.entry.kind,
                            "target": o.entry.id,
                            "status": "waiting",
                            "task_id": None,
                        }
                        for o in ordered
                    ],
                )
                session.add(plan)
                await session.flush()
            return plan

    async def update(
        self, plan_id: int, plan_status: PlanStatus, step: str | None = None, **changes: Any
    ) -> None:
        async with self.db.session() as session:
            plan = await session.get(Plan, plan_id)
            if plan is None:
                return
            plan.status = plan_status
            if step is not None:
                # A new list: the JSON column is saved when it is assigned, not mutated.
                plan.steps = [{**s, **changes} if s["name"] == step else s for s in plan.steps]


def plan_tool(roster: Roster, database: Database) -> Tool[TaskDeps]:
    """Angie's ``make_plan`` tool over the agents and teams of ``roster``."""
    store = PlanStore(database)

    async def make_plan(
        ctx: RunContext[TaskDeps],
        goal: Annotated[str, Field(min_length=1, max_length=1000)],
        steps: Annotated[list[PlanStep], Field(min_length=1, max_length=MAX_STEPS)],
    ) -> str:
        task = ctx.deps.task
        ordered = order_steps(steps, roster)
        call_id = ctx.tool_call_id or ""
        plan = await store.find_or_propose(task.id, call_id, goal, ordered)
        # As the model wrote them (what the approval's hash was taken of).
        arguments = {"goal": goal, "steps": [s.model_dump(exclude_unset=True) for s in steps]}
        if not approved_as_shown(PLAN_TOOL, arguments, ctx):
            raise ApprovalRequired(
                metadata={
                    "server": DELEGATIONS,
                    "tool": PLAN_TOOL,
                    "args_hash": args_hash(PLAN_TOOL, arguments),
                    "reason": ASKED_BECAUSE,
                }
            )
        if ctx.deps.delegate is None:
            return "Plans cannot run in this run."
        # The plan runs as a task of its own (workflows/plans.py), step by step; a step that
        # waits for the person suspends that task, not this run, and wakes it when done.
        answer = await ctx.deps.delegate(task, call_id, "plan", plan.id, goal)
        return answer.text

    return Tool(
        make_plan,
        name=PLAN_TOOL,
        description=(
            "For a request that needs several agents or teams, some after others: propose a "
            "plan. The person sees it and approves before any step starts; then the steps run "
            "in order (each after the steps it names, which it hears the results of) and you "
            "get every result. Use ask_<agent> directly for a single step."
        ),
        takes_ctx=True,
    )
