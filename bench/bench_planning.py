"""A 5-step plan's own cost: the plan's task running five hue-agent steps one after another,
against the same five agent tasks submitted directly one after another.

Both sides run the same work: five agent tasks, each a ``hue_list_lights`` call on the real Hue
MCP server (a supervised subprocess, against the fake bridge) with the scripted model. The plan
side is an approved plan (the person's approval is their time, not Angie's, and is left out): its
task runs each step as a child task, hands each the result of the step before, and records the
plan's progress in the ``plans`` table. The direct side submits each task when the previous one
has finished. Both wait the same way (the task row read every 5 ms). Samples alternate, so both
see the same machine; embedded queue, SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING

from angie.db.models import Plan, PlanStatus, Task, TaskKind, TaskStatus

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness

SAMPLES = int(os.environ.get("ANGIE_BENCH_SAMPLES", "20"))
WARMUP = 2
STEPS = 5
DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


async def _finished(where: harness.Deployment, task_id: int) -> Task:
    async with asyncio.timeout(60):
        while True:
            task = await where.back.services.tasks.require(task_id)
            if task.status in DONE:
                return task
            await asyncio.sleep(0.005)


async def measure(where: harness.Deployment) -> dict[str, list[float]]:
    user = await where.user()
    hue = await where.agent_id("hue")
    tasks = where.back.services.tasks

    async def planned(i: int) -> float:
        # The task whose run proposed the plan (Angie's chat); already settled here.
        parent, _ = await tasks.submit(TaskKind.CHAT, user_id=user, input={"text": f"plan {i}"})
        await tasks.succeed(parent.id, {"text": "planned"})
        async with where.front.services.database.session() as session:
            plan = Plan(
                task_id=parent.id,
                tool_call_id=f"bench-{i}",
                goal="Which lights are there, five times",
                status=PlanStatus.RUNNING,
                steps=[
                    {
                        "name": f"s{n}",
                        "ask": "hue",
                        "request": "Which lights are there?",
                        "after": [f"s{n - 1}"] if n else [],
                        "kind": "agent",
                        "target": hue,
                        "status": "waiting",
                        "task_id": None,
                    }
                    for n in range(STEPS)
                ],
            )
            session.add(plan)
            await session.flush()
            plan_id = plan.id
        start = time.perf_counter()
        runner, _ = await tasks.submit(
            TaskKind.WORKFLOW,
            user_id=user,
            input={"text": "plan", "plan_id": plan_id},
            parent_id=parent.id,
        )
        where.back.services.queue.enqueue(runner.id)
        done = await _finished(where, runner.id)
        elapsed = (time.perf_counter() - start) * 1000
        assert done.status is TaskStatus.SUCCEEDED, done.error
        return elapsed

    async def direct(_i: int) -> float:
        start = time.perf_counter()
        for _ in range(STEPS):
            task, _ = await tasks.submit(
                TaskKind.AGENT,
                user_id=user,
                input={"text": "Which lights are there?"},
                agent_id=hue,
            )
            where.back.services.queue.enqueue(task.id)
            done = await _finished(where, task.id)
            assert done.status is TaskStatus.SUCCEEDED, done.error
        return (time.perf_counter() - start) * 1000

    kinds = {"plan": planned, "direct": direct}
    for i in range(WARMUP):
        for body in kinds.values():
            await body(-1 - i)
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for i in range(SAMPLES):
        for name, body in kinds.items():
            times[name].append(await body(i))
    return times


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with harness.hue_bridge() as bridge:
        async with harness.deployment("embedded", bridge, threads=4) as where:
            times = await measure(where)
    print(f"{STEPS} hue-agent steps one after another; {SAMPLES} samples each; SQLite, embedded")
    base = {q: harness.pct(times["direct"], q) for q in (50, 99)}
    labels = {
        "direct": "baseline: 5 agent tasks submitted directly",
        "plan": "angie: an approved 5-step plan",
    }
    for name, label in labels.items():
        p50, p99 = harness.pct(times[name], 50), harness.pct(times[name], 99)
        ratio = f"   ratio p50 {p50 / base[50]:4.2f}x  p99 {p99 / base[99]:4.2f}x"
        print(
            f"  {label:<44} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms"
            + ("" if name == "direct" else ratio)
        )
    overhead = (harness.pct(times["plan"], 50) - base[50]) / STEPS
    print(f"  the plan's own cost per step (p50): {overhead:+.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
