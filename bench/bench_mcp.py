"""MCP federation figures, each against a baseline measured in the same run:

1. tool-call overhead: one call through Angie's guarded, prefixed toolset vs a raw fastmcp Client
   call to the same supervised server (aim: <= 1.3x);
1b. a side effect through everything an agent's call passes (schema check, approval policy,
   effects journal written before and after, loop breaker, content trust, audit row; SQLite)
   vs the guarded toolset alone, on the real Hue server against the fake bridge (aim: <= 2x);
2. federation start: all four built-in servers started in parallel vs one alone (aim: <= 2x);
3. memory: PSS of each idle built-in server vs a bare FastMCP hello-world (aim: <= 1.2x). PSS, not
   RSS: a server forked from the launcher shares most of its pages with its siblings, and RSS
   would count each shared page once per server.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastmcp import Client
from pydantic_ai import RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import RunUsage

from angie.mcp.registry import ServerSpec, builtin_specs
from angie.mcp.supervisor import Supervisor
from angie.mcp.toolsets import ServerToolset

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "mcp_servers" / "_core" / "tests" / "sample_server.py"
CALLS = 300


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def tool_call_overhead(state_dir: Path) -> None:
    spec = ServerSpec("sample", "stdio", command=(sys.executable, str(SAMPLE)), builtin=True)
    sup = Supervisor([spec], environ={"PATH": os.environ["PATH"]}, state_dir=state_dir)
    await sup.start()
    try:
        endpoint = sup.endpoint("sample")
        ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
        toolset = await ServerToolset(spec, sup, timeout=30).for_run(ctx)
        raw_times: list[float] = []
        ours: list[float] = []
        async with Client(endpoint.url, auth=endpoint.token) as raw, toolset:
            tools = await toolset.get_tools(ctx)
            tool = tools["sample_brightness"]
            for _ in range(20):  # warm-up both paths
                await raw.call_tool("brightness", {"room": "kitchen"})
                await toolset.call_tool("sample_brightness", {"room": "kitchen"}, ctx, tool)
            for _ in range(CALLS):  # alternate, so both see the same machine
                start = time.perf_counter()
                await raw.call_tool("brightness", {"room": "kitchen"})
                raw_times.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                await toolset.call_tool("sample_brightness", {"room": "kitchen"}, ctx, tool)
                ours.append((time.perf_counter() - start) * 1000)
    finally:
        await sup.stop()
    for q in (50, 99):
        a, b = pct(ours, q), pct(raw_times, q)
        print(
            f"tool call p{q:<3}   angie {a:7.2f} ms   raw client {b:7.2f} ms   ratio {a / b:5.2f}x"
        )
    print(f"  ({CALLS} calls each over loopback HTTP with the bearer token; aim <= 1.3x)")


async def side_effect_overhead(state_dir: Path) -> None:
    from angie_mcp_hue.testing import FakeHueBridge

    from angie.agents.journal import EffectJournal
    from angie.agents.policy import ApprovalPolicy, ServerPolicy
    from angie.agents.toolbox import Toolbox
    from angie.agents.trust import RunTrust
    from angie.db import migrate
    from angie.db.engine import Database
    from angie.db.models import ApprovalMode, Task, TaskKind, TaskStatus

    spec = builtin_specs(["hue"])["hue"]
    database = Database(f"sqlite+aiosqlite:///{state_dir / 'bench.db'}")
    await migrate.upgrade(database.engine)
    async with database.session() as session:
        task = Task(kind=TaskKind.AGENT, user_id=None, input={}, status=TaskStatus.RUNNING)
        session.add(task)
    with FakeHueBridge() as bridge:
        environ = {
            "PATH": os.environ["PATH"],
            "ANGIE_HUE_BRIDGE_HOST": bridge.host,
            "ANGIE_HUE_USERNAME": bridge.username,
        }
        sup = Supervisor([spec], environ=environ, state_dir=state_dir)
        await sup.start()
        try:
            ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
            plain = await ServerToolset(spec, sup, timeout=30).for_run(ctx)
            toolbox = Toolbox(database, servers=lambda: {"hue": spec}, supervisor=sup, timeout=30)
            [unresolved] = toolbox.toolsets(
                ["hue"],
                [],
                policy=ApprovalPolicy([ServerPolicy("hue", ApprovalMode.ALLOW)]),
                task_id=task.id,
                untrusted=False,
                journal=EffectJournal(database, task.id),
                trust=RunTrust(task, database),
            )
            # As an agent run does: each server resolved for the run, its session kept open.
            stack = await unresolved.for_run(ctx)
            ours: list[float] = []
            base: list[float] = []
            async with plain, stack:
                plain_tool = (await plain.get_tools(ctx))["hue_set_light"]
                our_tool = (await stack.get_tools(ctx))["hue_set_light"]
                for n in range(CALLS + 20):  # the first 20 warm both paths up
                    args = {"name": "Floor lamp", "on": True, "brightness_percent": 1 + n % 100}
                    start = time.perf_counter()
                    await plain.call_tool("hue_set_light", args, ctx, plain_tool)
                    if n >= 20:
                        base.append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    await stack.call_tool("hue_set_light", args, ctx, our_tool)
                    if n >= 20:
                        ours.append((time.perf_counter() - start) * 1000)
        finally:
            await sup.stop()
            await database.dispose()
    for q in (50, 99):
        a, b = pct(ours, q), pct(base, q)
        print(
            f"side effect p{q:<3}  whole stack {a:7.2f} ms   guarded alone {b:7.2f} ms"
            f"   ratio {a / b:5.2f}x"
        )
    print(f"  ({CALLS} hue set_light calls each; the stack writes 3 rows per call; aim <= 2x)")


async def federation_start(state_dir: Path) -> dict[str, int]:
    specs = builtin_specs()

    async def timed(chosen: list[ServerSpec]) -> tuple[float, Supervisor]:
        sup = Supervisor(chosen, environ={"PATH": os.environ["PATH"]}, state_dir=state_dir)
        start = time.perf_counter()
        await sup.start()
        return time.perf_counter() - start, sup

    one, sup = await timed([specs["hue"]])
    await sup.stop()
    everything, sup = await timed(list(specs.values()))
    pids = {s.name: s.pid for s in sup.states() if s.pid}
    print(
        f"federation start   all {len(specs)} {everything:6.2f} s   hue alone {one:6.2f} s"
        f"   ratio {everything / one:5.2f}x   (aim <= 2x; {os.cpu_count()} cores)"
    )
    await asyncio.sleep(2)  # idle
    memory(pids)
    await sup.stop()
    return pids


def memory(pids: dict[str, int]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hello = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "hello_server.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(2)
        base = pss_mb(hello.pid)
    finally:
        hello.terminate()
        hello.wait()
    for name, pid in sorted(pids.items()):
        mine = pss_mb(pid)
        print(
            f"idle PSS {name:<15} {mine:6.1f} MB   hello-world {base:6.1f} MB"
            f"   ratio {mine / base:5.2f}x"
        )
    print("  (aim <= 1.2x)")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        await tool_call_overhead(Path(tmp))
        await side_effect_overhead(Path(tmp))
        await federation_start(Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
