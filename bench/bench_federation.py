"""Memory and start of the built-in MCP federation, each launcher against the other in the same run:

1. idle PSS: the proportional memory of every process the supervisor keeps (the launcher and
   its forks, or the exec'd servers), summed from /proc/<pid>/smaps_rollup (aim with fork:
   <= 450 MB for all the built-in servers);
2. start: the time until every built-in server is ready vs one server alone (aim with fork:
   <= 1.5x); the median of a few rounds, after a warm-up round.

Servers run without their vendors' settings (up, listening, "not configured"): what is measured
is the process, not a vendor.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


async def main() -> None:
    specs = builtin_specs()
    everything, one = list(specs.values()), [specs["hue"]]
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        memory = {mode: await idle_pss(everything, mode, state) for mode in LAUNCHERS}
        times: dict[tuple[LauncherMode, str], list[float]] = {}
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
        f"  (aim: fork all/one <= 1.5x; median of {ROUNDS} rounds; {os.cpu_count()} cores;"
        f" Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    asyncio.run(main())
