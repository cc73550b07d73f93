"""Running an approved plan: a task of its own whose steps are its child tasks, in order.

Each step is asked of its agent or team with the results of the steps it comes after. A step
that waits for the person suspends the plan's task (the step's approval wakes it, and the run
picks up where it was: each step's task is found again by its key); a step that fails stops the
plan, and the steps after it do not run. The plan's progress is kept in the ``plans`` table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from angie.agents.planning import PlanStore, step_request
from angie.agents.runs import Failed, Finished, Outcome, Suspended, answer_of
from angie.agents.trust import started_by, taint_task
from angie.db.engine import Database
from angie.db.models import Plan, PlanStatus, Task, TaskKind, TaskStatus
from angie.tasks.service import TERMINAL, TaskService

__all__ = ("run_plan",)


async def run_plan(
    database: Database,
    tasks: TaskService,
    run_inline: Callable[[Task], Awaitable[Task]],
    task: Task,
    plan_id: int,
) -> Outcome:
    store = PlanStore(database)
    async with database.session() as session:
        plan = await session.get(Plan, plan_id)
        if plan is None or plan.task_id != task.parent_id:
            return Failed("the plan no longer exists")
        steps: list[dict[str, Any]] = list(plan.steps)
        goal = plan.goal
    results: dict[str, str] = {}
    for number, step in enumerate(steps):
        name = str(step["name"])
        key = f"task:{task.id}:plan:{name}"
        child = await tasks.by_key(key)
        if child is None:
            team = step.get("kind") == "team"
            child, _ = await tasks.submit(
                TaskKind.TEAM if team else TaskKind.AGENT,
                user_id=task.user_id,
                input={
                    "text": step_request(str(step["request"]), step.get("after") or [], results),
                    **({"untrusted": True} if task.input.get("untrusted") else {}),
                },
                # Earlier steps' results are in the request: their taint comes along.
                tainted_by=task.tainted_by or started_by(task),
                idempotency_key=key,
                parent_id=task.id,
                agent_id=None if team else int(step["target"]),
                team_id=int(step["target"]) if team else None,
                channel=task.channel,
                thread=task.thread,
                event_id=task.event_id,
            )
            await store.update(
                plan_id, PlanStatus.RUNNING, name, status="running", task_id=child.id
            )
        if child.status not in TERMINAL and child.status is not TaskStatus.AWAITING_APPROVAL:
            child = await run_inline(child)
        if child.status is TaskStatus.AWAITING_APPROVAL:
            await store.update(plan_id, PlanStatus.RUNNING, name, status="waiting")
            return Suspended({"children": {key: child.id}}, children={key: child.id})
        if child.tainted_by is not None:
            await taint_task(database, task, child.tainted_by)
        answer = answer_of(child)
        if child.status is not TaskStatus.SUCCEEDED:
            await store.update(plan_id, PlanStatus.FAILED, name, status="failed")
            done = ", ".join(str(s["name"]) for s in steps[:number]) or "none"
            skipped = ", ".join(str(s["name"]) for s in steps[number + 1 :]) or "none"
            earlier = "".join(f"\nResult of {n!r}: {r}" for n, r in results.items())
            return Failed(
                f"step {name!r} ({step['ask']}) failed: {answer} Steps done: {done}. "
                f"Steps not run: {skipped}.{earlier}\nTell the person what happened; if another "
                "way could reach the goal, propose a new plan for what is left with make_plan"
            )
        await store.update(plan_id, PlanStatus.RUNNING, name, status="succeeded")
        results[name] = answer
    await store.update(plan_id, PlanStatus.SUCCEEDED)
    summary = "\n".join(f"\nResult of {n!r}:\n{r}" for n, r in results.items())
    return Finished(f"The plan is done ({goal}).\n{summary}", {"plan_id": plan_id, **results})
