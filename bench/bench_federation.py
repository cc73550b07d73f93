"""Memory and start of the built-in MCP federation, each launcher against the other in the same run:

1. idle PSS: the proportional memory of every process the supervisor keeps (the launcher and
   its forks, or the exec'd servers), summed from /proc/<pid>/smaps_rollup (aim with fork:
   <= 450 MB for all the built-in servers);
2. start: the time until every built-in server is ready vs one server alone (aim with fork:
   <= 1.5x); the median of a few rounds, after a warm-up round;
3. ``angie serve`` whole (Angie's own process, the launcher and every server), just started and
   once its servers rested for idleness (ANGIE_MCP_IDLE_SECONDS; aim <= 450 MB);
4. the first tool call to a server that rested (forked again by the call) vs a call to one
   that runs, through the supervisor and a fresh MCP session as Angie's calls go (aim <= 150 ms).

Servers run without their vendors' settings (up, listening, "not configured"): what is measured
is the process, not a vendor.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from angie_mcp_hue.testing import FakeHueBridge
from fastmcp import Client

from angie.mcp.registry import ServerSpec, builtin_specs
from angie.mcp.supervisor import LauncherMode, Supervisor

ROUNDS = 3
IDLE = 3.0  # seconds the federation settles before its memory is read
LAUNCHERS: tuple[LauncherMode, ...] = ("exec", "fork")


def descendants(pid: int) -> list[int]:
    """Every live process under ``pid`` (the launcher's forks are its grandchildren)."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(c) for c in tasks.read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def ready_in(specs: list[ServerSpec], launcher: LauncherMode, state_dir: Path) -> float:
    sup = Supervisor(
        specs, environ={"PATH": os.environ["PATH"]}, state_dir=state_dir, launcher=launcher
    )
    start = time.perf_counter()
    await sup.start()
    took = time.perf_counter() - start
    down = [s.name for s in sup.states() if s.pid is None]
    await sup.stop()
    if down:
        raise SystemExit(f"{launcher}: these servers did not start: {', '.join(down)}")
    return took


async def idle_pss(specs: list[ServerSpec], launcher: LauncherMode, state_dir: Path) -> float:
    sup = Supervisor(
        specs, environ={"PATH": os.environ["PATH"]}, state_dir=state_dir, launcher=launcher
    )
    await sup.start()
    try:
        await asyncio.sleep(IDLE)
        return sum(pss_mb(pid) for pid in descendants(os.getpid()))
    finally:
        await sup.stop()


def tree_pss_mb(root: int) -> float:
    return sum(pss_mb(pid) for pid in (root, *descendants(root)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve_pss(tmp: Path) -> tuple[float, float, int]:
    """``angie serve`` on the embedded defaults with every built-in server: the PSS of its
    whole process tree once up, then once every server rested; and how many servers ran."""
    port, data = free_port(), tmp / "serve"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "ANGIE_DATA_DIR": str(data),
        "ANGIE_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "ANGIE_MCP_TIMEOUT": "2",
        # Long enough that no server rests before the first reading (their starts spread
        # over a second or two), short enough for the bench.
        "ANGIE_MCP_IDLE_SECONDS": "10",
    }
    angie = Path(sys.executable).with_name("angie")  # the console script beside this Python
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for over HTTP
        [str(angie), "serve", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 120
            while True:
                assert time.monotonic() < deadline, "angie serve did not come up"
                try:
                    if (await client.get("/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        await asyncio.sleep(IDLE)
        servers = len(descendants(process.pid)) - 1  # the launcher's forks
        up = tree_pss_mb(process.pid)
        deadline = time.monotonic() + 60
        while len(descendants(process.pid)) > 1:  # only the launcher left
            assert time.monotonic() < deadline, "the servers did not rest"
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)
        return up, tree_pss_mb(process.pid), servers
    finally:
        process.terminate()
        process.wait(30)


async def call_lights(sup: Supervisor) -> float:
    started = time.perf_counter()
    endpoint = await sup.ready("hue", within=10)
    async with Client(endpoint.url, auth=endpoint.token) as client:
        await client.call_tool("list_lights", {})
    return (time.perf_counter() - started) * 1000


async def first_call_ms(tmp: Path, rounds: int = 8) -> tuple[float, float]:
    """Median ms of a call to a running Hue server and of one to a rested one."""
    with FakeHueBridge() as bridge:
        environ = {
            "PATH": os.environ["PATH"],
            "ANGIE_HUE_BRIDGE_HOST": bridge.host,
            "ANGIE_HUE_USERNAME": bridge.username,
        }
        sup = Supervisor(
            [builtin_specs()["hue"]],
            environ=environ,
            state_dir=tmp / "mcp",
            launcher="fork",
            idle_after=0.5,
        )
        await sup.start()
        warm, cold = [], []
        try:
            await call_lights(sup)
            for _ in range(rounds):
                warm.append(await call_lights(sup))
                while not sup.states()[0].idle:  # noqa: ASYNC110 - the supervisor's own state
                    await asyncio.sleep(0.05)
                cold.append(await call_lights(sup))
        finally:
            await sup.stop()
    return statistics.median(warm), statistics.median(cold)


async def main() -> None:
    specs = builtin_specs()
    everything, one = list(specs.values()), [specs["hue"]]
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        memory = {mode: await idle_pss(everything, mode, state) for mode in LAUNCHERS}
        times: dict[tuple[LauncherMode, str], list[float]] = {}
        serve_up, serve_rested, serving = await serve_pss(state)
        warm_ms, cold_ms = await first_call_ms(state)
        for mode in LAUNCHERS:  # warm-up: compiled bytecode, page cache
            await ready_in(one, mode, state)
        for _ in range(ROUNDS):  # alternate, so both see the same machine
            for mode in LAUNCHERS:
                for label, chosen in (("one", one), ("all", everything)):
                    times.setdefault((mode, label), []).append(await ready_in(chosen, mode, state))
    n = len(everything)
    print(
        f"idle PSS, all {n} servers   fork {memory['fork']:7.1f} MB   exec {memory['exec']:7.1f} MB"
        f"   ratio {memory['fork'] / memory['exec']:5.2f}x   (aim: fork <= 450 MB)"
    )
    for mode in LAUNCHERS:
        whole = statistics.median(times[(mode, "all")])
        alone = statistics.median(times[(mode, "one")])
        print(
            f"all {n} ready ({mode:<4})     {whole:6.2f} s   hue alone {alone:6.2f} s"
            f"   ratio {whole / alone:5.2f}x"
        )
    fork_all, exec_all = (statistics.median(times[(m, "all")]) for m in ("fork", "exec"))
    print(
        f"all {n} ready, fork vs exec {fork_all:6.2f} s vs {exec_all:6.2f} s"
        f"   ratio {fork_all / exec_all:5.2f}x"
    )
    print(
        f"angie serve, {serving} servers  up {serve_up:7.1f} MB   rested {serve_rested:7.1f} MB"
        f"   ratio {serve_rested / serve_up:5.2f}x   (aim: <= 450 MB)"
    )
    print(
        f"first call, rested server  {cold_ms:6.1f} ms   running {warm_ms:6.1f} ms"
        f"   ratio {cold_ms / warm_ms:5.2f}x   (aim: <= 150 ms)"
    )
    print(
        f"  (aim: fork all/one <= 1.5x; median of {ROUNDS} rounds; {os.cpu_count()} cores;"
        f" Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    asyncio.run(main())
