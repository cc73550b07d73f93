"""Running a workflow: its steps in order, each a child task of the workflow's task, each
instruction a Jinja2 template over the triggering event and the earlier steps' outputs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from jinja2 import TemplateError

from angie.agents.runs import Failed, Finished, Outcome, Suspended, answer_of
from angie.agents.trust import started_by, taint_task
from angie.db.engine import Database
from angie.db.models import Event, OnFailure, Task, TaskKind, TaskStatus, Workflow
from angie.events.router import UNTRUSTED_TYPES
from angie.prompts.sandbox import TemplateLimit
from angie.tasks.service import TERMINAL, TaskService
from angie.workflows.plans import run_plan
from angie.workflows.render import render_instruction

__all__ = ("WorkflowEngine", "render_instruction")


class WorkflowEngine:
    def __init__(
        self, database: Database, tasks: TaskService, run_inline: Callable[[Task], Awaitable[Task]]
    ) -> None:
        self.db = database
        self.tasks = tasks
        self._run_inline = run_inline

    async def run(self, task: Task) -> Outcome:
        if task.input.get("plan_id") is not None:
            return await run_plan(
                self.db, self.tasks, self._run_inline, task, int(task.input["plan_id"])
            )
        async with self.db.session() as session:
            workflow = await session.get(Workflow, task.workflow_id) if task.workflow_id else None
            if workflow is None:
                return Failed("the workflow no longer exists")
            steps = list(workflow.steps)
            event = await session.get(Event, task.event_id) if task.event_id else None
            name = workflow.name
        if not steps:
            return Failed(f"workflow {name!r} has no steps")
        trigger = {
            "type": event.type.value if event else "api",
            "source": event.source if event else "api",
            "payload": event.payload if event else {},
            "text": task.input.get("text", ""),
        }
        untrusted = bool(task.input.get("untrusted")) or (
            event is not None and event.type in UNTRUSTED_TYPES
        )
        outside = f"{trigger['type']} {trigger['source']}" if untrusted else None
        outputs: dict[str, str | None] = {}
        failures: list[str] = []
        previous: str | None = None
        for step in steps:
            key = f"task:{task.id}:step:{step.position}"
            child = await self.tasks.by_key(key)
            if child is None:
                variables = {
                    "event": trigger,
                    "steps": outputs,
                    "previous": previous,
                    "input": task.input,
                }
                try:
                    instruction = await asyncio.to_thread(
                        render_instruction, step.instruction, variables, outside=outside
                    )
                except TemplateLimit as err:
                    return Failed(f"step {step.name!r}: its instruction is too big ({err})")
                except (TemplateError, TypeError, ValueError, ArithmeticError) as err:
                    return Failed(f"step {step.name!r}: its instruction cannot be rendered ({err})")
                retries = step.max_retries if step.on_failure is OnFailure.RETRY else 0
                child, _ = await self.tasks.submit(
                    TaskKind.WORKFLOW_STEP,
                    user_id=task.user_id,
                    input={"text": instruction, **_trust(task)},
                    # Earlier steps' outputs are in the instruction: their taint comes along.
                    tainted_by=task.tainted_by or started_by(task),
                    idempotency_key=key,
                    parent_id=task.id,
                    workflow_id=task.workflow_id,
                    workflow_step_id=step.id,
                    agent_id=step.agent_id,
                    team_id=step.team_id,
                    channel=task.channel,
                    thread=task.thread,
                    event_id=task.event_id,
                    max_attempts=1 + retries,
                )
            if child.status not in TERMINAL and child.status is not TaskStatus.AWAITING_APPROVAL:
                child = await self._run_inline(child)
            if child.status is TaskStatus.AWAITING_APPROVAL:
                return Suspended({"children": {key: child.id}}, children={key: child.id})
            if child.tainted_by is not None:
                await taint_task(self.db, task, child.tainted_by)
            if child.status is TaskStatus.SUCCEEDED:
                previous = outputs[step.name] = answer_of(child)
                continue
            if step.on_failure is OnFailure.CONTINUE:
                outputs[step.name] = None
                failures.append(f"{step.name}: {child.error or child.status.value}")
                continue
            return Failed(f"step {step.name!r} failed: {child.error or child.status.value}")
        summary = previous or ""
        if failures:
            summary += "\n\nSteps that failed and were skipped: " + "; ".join(failures)
        return Finished(summary.strip(), {"steps": outputs, "failed": failures})


def _trust(task: Task) -> dict[str, Any]:
    return {"untrusted": True} if task.input.get("untrusted") else {}
