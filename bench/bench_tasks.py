"""Event → task → result latency through Angie, against a bare pydantic-ai agent in the same run.

Each request asks which lights there are: a scripted FunctionModel calls ``hue_list_lights`` on the
real Hue MCP server (a supervised subprocess, against the fake bridge). Angie's side runs from
``submit(NewEvent)`` until the result reaches the person (the web channel's Delivery, pushed right
after the task row turns terminal: no polling). Two Angie paths: a MESSAGE through her router
(Angie's model delegates with ``ask_hue``, the hue agent runs as a child task) and an API event
naming the hue agent (the agent alone). The baseline is a bare ``pydantic_ai.Agent`` with the same
model and an ``MCPToolset`` on the same server endpoint, its session kept open across runs as
Angie keeps one per server.
Samples of the three alternate, so all see the same machine; on the embedded queue and on Redis
(a daemon and a worker Angie in this process).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset

from angie.db.models import ChannelKind, EventType
from angie.events.router import NewEvent

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness

SAMPLES = int(os.environ.get("ANGIE_BENCH_SAMPLES", "70"))
WARMUP = 5
THREADS = 4

Sample = Callable[[int], Awaitable[float]]


async def _through_angie(where: harness.Deployment, inbox: harness.Inbox, event: NewEvent) -> float:
    """Milliseconds from submit until the result is delivered to the person."""
    start = time.perf_counter()
    route = await where.front.submit(event)
    delivery = await inbox.next()
    elapsed = (time.perf_counter() - start) * 1000
    assert route.task is not None
    assert delivery.task_id == route.task.id, (delivery.task_id, route.task.id)
    assert "Sofa lamp" in delivery.text, delivery.text
    return elapsed


async def measure(where: harness.Deployment) -> dict[str, list[float]]:
    user = await where.user()
    hue_agent = await where.agent_id("hue")
    endpoint = where.hue
    bare: Agent[None, str] = Agent(
        harness.script_model(),
        toolsets=[MCPToolset(endpoint.url, auth=endpoint.token).prefixed("hue")],
    )
    # The bare agent keeps its MCP session open across runs, as Angie keeps one per server.
    async with where.inbox(user) as inbox, bare:

        async def router(i: int) -> float:
            event = NewEvent(
                EventType.MESSAGE,
                source="web",
                user_id=user,
                channel=ChannelKind.WEB,
                # A new conversation each time: no memory grows across samples.
                thread=f"bench-{i}",
                payload={"text": "hue: which lights are there?"},
            )
            return await _through_angie(where, inbox, event)

        async def direct(_i: int) -> float:
            event = NewEvent(
                EventType.API,
                source="api",
                user_id=user,
                payload={"agent_id": hue_agent, "text": "Which lights are there?"},
            )
            return await _through_angie(where, inbox, event)

        async def baseline(_i: int) -> float:
            start = time.perf_counter()
            run = await bare.run("Which lights are there?")
            elapsed = (time.perf_counter() - start) * 1000
            assert "Sofa lamp" in run.output, run.output
            return elapsed

        kinds: dict[str, Sample] = {"router": router, "direct": direct, "baseline": baseline}
        for i in range(WARMUP):
            for body in kinds.values():
                await body(-1 - i)
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for i in range(SAMPLES):  # interleaved, so all three see the same machine
            for name, body in kinds.items():
                times[name].append(await body(i))
    return times


def report(queue: str, times: dict[str, list[float]]) -> None:
    labels = {
        "router": "angie via her router (MESSAGE, ask_hue, hue agent)",
        "direct": "angie, hue agent direct (API event, agent_id)",
        "baseline": "baseline: bare pydantic-ai Agent + MCPToolset",
    }
    base = {q: harness.pct(times["baseline"], q) for q in (50, 99)}
    print(f"{queue}: {SAMPLES} samples each after {WARMUP} warm-up rounds")
    for name, label in labels.items():
        p50, p99 = harness.pct(times[name], 50), harness.pct(times[name], 99)
        ratio = f"   ratio p50 {p50 / base[50]:4.2f}x  p99 {p99 / base[99]:4.2f}x"
        print(
            f"  {label:<52} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms"
            + ("" if name == "baseline" else ratio)
        )


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(
        "latency from submit until the result is delivered (web channel push, no polling); "
        "one hue_list_lights call each; SQLite"
    )
    with harness.hue_bridge() as bridge:
        for queue in ("embedded", "redis"):
            if queue == "redis" and not harness.redis_answers():
                print("redis: skipped, no Redis answers")
                continue
            async with harness.deployment(queue, bridge, threads=THREADS) as where:
                report(queue, await measure(where))
            if queue == "redis":
                print(
                    "  (an idle consumer waits on a wake-up list that sending a task pushes to:"
                    " a task is taken\n   at once, not at the next of Dramatiq's polls)"
                )


if __name__ == "__main__":
    asyncio.run(main())
