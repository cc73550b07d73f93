"""Message → reply latency through each chat channel's fake against ``POST /api/chat``.

One Angie (serving her API on 127.0.0.1, the real Hue MCP server against the fake bridge, the
tests' scripted Brain as an instant model) runs Slack over Socket Mode, Discord, iMessage
(BlueBubbles posting to her webhook route) and, when Dovecot is installed, email for one person,
each SDK pointed at the platform's fake from ``tests/fakes``. Each round sends the same request
once through every route, one at a time: from the fake delivering the message (socket, gateway,
webhook, maildir) to the fake receiving Angie's reply (chat.postMessage / a Discord message /
BlueBubbles' sendText / SMTP); for the API, from the request to its response (``wait`` holds it
until the reply). Two requests: a plain answer (no tool), and one call of ``hue_list_lights``
through the hue agent (read-only; the hue server is allowed, so no approval is asked). The ratio
channel/API is what the channel itself costs (email's includes the fake Dovecot's 1 s IDLE check
interval: the provider's cost). The p50 of each stage (from the task and ledger rows' timestamps)
says where the time goes. Last, the plain answer again with the channel hub not woken when the
reply is written, as when an ``angie worker`` process writes it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

# The platforms' fakes and the scripted model live with the tests (tests/ is on mypy's path).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from channel_support import Endpoints, hue_home_angie
from fakes.brain import Brain

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
    from bench import _channel_routes as routes_
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness
    import _channel_routes as routes_

MESSAGES = int(os.environ.get("ANGIE_BENCH_MESSAGES", "10"))
WARMUP = 3
# request text → what her reply must contain
REQUESTS = {
    "instant": ("good morning", "Angie heard:"),
    "hue tool": ("hue: which lights are there?", "done:"),
}


def _list_lights(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The hue agent's plan: one call of ``hue_list_lights``."""
    return ("hue_list_lights", {}) if "hue_list_lights" in tools else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ms(values: list[float], q: float) -> str:
    return f"{harness.pct(values, q) * 1000:7.0f}"


def report(request: str, results: dict[str, list[float]]) -> None:
    api = results["api"]
    print(f"{request:<9} {'api':<9} p50 {_ms(api, 50)} ms  p95 {_ms(api, 95)} ms")
    for name, ours in results.items():
        if name == "api":
            continue
        print(
            f"{request:<9} {name:<9} p50 {_ms(ours, 50)} ms  p95 {_ms(ours, 95)} ms"
            f"   ratio channel/api p50 {harness.pct(ours, 50) / harness.pct(api, 50):5.2f}x"
            f"  p95 {harness.pct(ours, 95) / harness.pct(api, 95):5.2f}x"
        )


def report_stages(stages: dict[str, routes_.Stages]) -> None:
    print("  p50 ms of: sent → task row | queued | run → reply written | written → received (p95)")
    for name, s in stages.items():
        print(
            f"  {name:<9} {_ms(s.inbound, 50)} | {_ms(s.queued, 50)} | {_ms(s.working, 50)} |"
            f" {_ms(s.outbound, 50)} ({_ms(s.outbound, 95)})"
        )


async def measure(
    routes: list[routes_.Route], requests: dict[str, tuple[str, str]], messages: int, warmup: int
) -> None:
    for request, (text, expect) in requests.items():
        results: dict[str, list[float]] = {route.name: [] for route in routes}
        stages = {route.name: routes_.Stages() for route in routes}
        for round_ in range(warmup + messages):
            for route in routes:  # one route after another: each sees the same machine
                reply = await route.ask(text)
                if expect not in reply.text:
                    raise AssertionError(f"{route.name} answered {reply.text[:200]!r}")
                if round_ >= warmup:
                    results[route.name].append(reply.seconds)
                    await route.stage(reply, stages[route.name])
        report(request, results)
        report_stages(stages)


def _trouble(record: logging.LogRecord) -> bool:
    """Only trouble is printed: not the server's start and stop (uvicorn sets its own levels as
    it starts), the throwaway setup code or discord.py's word on voice."""
    if record.name.startswith(("uvicorn", "angie.accounts.setup_code", "discord")):
        return record.levelno >= logging.ERROR
    return True


async def main(messages: int, warmup: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_trouble)
    print(
        f"{messages} messages per route and request after {warmup} warm-up, one at a time; "
        f"scripted instant model; SQLite; {os.cpu_count()} cores; aim channel/api <= 1.2x"
    )
    if not routes_.has_dovecot():
        print("email skipped: Dovecot is not installed (apt-get install dovecot-imapd)")
    brain = Brain(plans={"lights": _list_lights})
    ends = Endpoints()
    port = _free_port()
    with harness.hue_bridge() as bridge, tempfile.TemporaryDirectory(prefix="angie-bench-") as tmp:
        data_dir = Path(tmp)
        angie = hue_home_angie(
            f"sqlite+aiosqlite:///{data_dir / 'angie.db'}",
            data_dir,
            bridge,
            brain,
            ends.factory(),
            port=port,
        )
        home = routes_.Home(angie, f"http://127.0.0.1:{port}")
        # The platforms' fakes outlive Angie: her adapters stop before their platforms go.
        async with (
            contextlib.AsyncExitStack() as stack,
            httpx.AsyncClient(base_url=home.url, timeout=routes_.WAIT_S + 10) as client,
        ):
            await angie.start()
            try:
                await routes_.sign_in(home, client)
                await home.allow_hue()
                routes = [routes_.Api(home, client), *await routes_.connect(home, stack, ends)]
                await measure(routes, REQUESTS, messages, warmup)
                # As when an `angie worker` process writes the reply: the hub's wake is only
                # called in the process that writes the ledger row, so the hub polls for it.
                angie.services.feedback.on_ledger = None
                print(
                    "without the hub's in-process wake (its 1 s poll finds the reply; one message"
                    " at a time meets the poll near its worst):"
                )
                await measure(routes, {"unwoken": REQUESTS["instant"]}, messages, warmup)
            finally:
                await angie.stop(grace=5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=MESSAGES, help="per route")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="per route, not counted")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.warmup))
