"""Event → task → result latency through Angie, against a bare pydantic-ai agent in the same run.

Each request asks which lights there are: a scripted FunctionModel calls ``hue_list_lights`` on the
real Hue MCP server (a supervised subprocess, against the fake bridge). Angie's side runs from
``submit(NewEvent)`` until the result reaches the person (the web channel's Delivery, pushed right
after the task row turns terminal: no polling). Two Angie paths: a MESSAGE through her router
(Angie's model delegates with ``ask_hue``, the hue agent runs as a child task) and an API event
naming the hue agent (the agent alone). The baseline is a bare ``pydantic_ai.Agent`` with the same
model and an ``MCPToolset`` on the same server endpoint, connecting per run as Angie's agents do.
Samples of the three alternate, so all see the same machine; on the embedded queue and on Redis
(a daemon and a worker Angie in this process).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable

from _angie_harness import Deployment, deployment, hue_bridge, pct, redis_answers, script_model
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset

from angie.db.models import ChannelKind, EventType
from angie.events.router import NewEvent

SAMPLES = int(os.environ.get("ANGIE_BENCH_SAMPLES", "60"))
WARMUP = 5
THREADS = 2
_WAIT_S = 30.0

Sample = Callable[[int], Awaitable[float]]


async def _through_angie(where: Deployment, event: NewEvent) -> float:
    """Milliseconds from submit until the result is delivered to the person."""
    assert event.user_id is not None
    stream = where.back.feedback.web.listen(event.user_id)
    delivered = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # let the listener subscribe before the work can finish
    try:
        start = time.perf_counter()
        route = await where.front.submit(event)
        delivery = await asyncio.wait_for(delivered, _WAIT_S)
        elapsed = (time.perf_counter() - start) * 1000
    finally:
        delivered.cancel()
        await stream.aclose()
    assert route.task is not None
    assert delivery.task_id == route.task.id, (delivery.task_id, route.task.id)
    assert "Sofa lamp" in delivery.text, delivery.text
    return elapsed


async def measure(where: Deployment) -> dict[str, list[float]]:
    user = await where.user()
    hue_agent = await where.agent_id("hue")
    endpoint = where.hue
    bare: Agent[None, str] = Agent(
        script_model(), toolsets=[MCPToolset(endpoint.url, auth=endpoint.token).prefixed("hue")]
    )

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
        return await _through_angie(where, event)

    async def direct(i: int) -> float:
        event = NewEvent(
            EventType.API,
            source="api",
            user_id=user,
            payload={"agent_id": hue_agent, "text": "Which lights are there?"},
        )
        return await _through_angie(where, event)

    async def baseline(i: int) -> float:
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
    for i in range(SAMPLES):
        for name, body in kinds.items():
            times[name].append(await body(i))
    return times


def report(queue: str, times: dict[str, list[float]]) -> None:
    base = times["baseline"]
    labels = {
        "router": "angie, via her router (MESSAGE → ask_hue → hue agent)",
        "direct": "angie, hue agent direct (API event, agent_id)",
        "baseline": "baseline: bare pydantic-ai Agent + MCPToolset",
    }
    print(f"{queue}: {SAMPLES} samples each after {WARMUP} warm-up, {THREADS} worker threads")
    for name, label in labels.items():
        p50, p99 = pct(times[name], 50), pct(times[name], 99)
        ratio = (
            ""
            if name == "baseline"
            else (f"   ratio p50 {p50 / pct(base, 50):5.2f}x  p99 {p99 / pct(base, 99):5.2f}x")
        )
        print(f"  {label:<56} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms{ratio}")


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print("submit → result delivered (web channel push, no polling); SQLite; hue_list_lights")
    with hue_bridge() as bridge:
        for queue in ("embedded", "redis"):
            if queue == "redis" and not redis_answers():
                print("redis: skipped, no Redis answers")
                continue
            async with deployment(queue, bridge, threads=THREADS) as where:
                report(queue, await measure(where))


if __name__ == "__main__":
    asyncio.run(main())
