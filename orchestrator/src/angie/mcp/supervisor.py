"""Runs Angie's built-in MCP servers as child processes on loopback HTTP and keeps them up.

Each start gets a free port and a fresh random bearer token; each child's environment holds only
its own ``ANGIE_<NAME>_*`` settings (credentials never reach another server). A crashed child is
restarted with exponential backoff; ``generation`` counts starts so toolsets built for an older
process (its port, its token, its tool list) are replaced. Once a child listens, the supervisor
reads its configuration resource (the kit's ``angie://configuration``): a server that runs but
lacks its settings is "not configured", not healthy, and says which settings it lacks.

Each child runs in a session of its own: a SIGTERM to Angie's process group (Ctrl-C, systemd)
reaches Angie alone, who stops her servers only once her tasks are done with them.

How a child is made is ``launcher``: ``exec`` runs a fresh ``python -m angie_mcp_<name>`` per
server; ``fork`` (the default on Linux) asks the pre-forked launcher (:mod:`angie.mcp.forked`),
which imported the server machinery once, for a fork per server, so the servers share those
pages and start without importing them again. Both kinds of process are watched, restarted and
stopped the same way. A launcher that dies is started again; one that cannot start leaves the
supervisor on ``exec``.

A forked server nobody called for ``idle_after`` seconds is stopped and forked again on the next
call (it is back within a tenth of a second), so a household's idle servers hold no memory. An
exec'd one keeps running: its start takes a second or more. A server that said it is not
configured rests sooner (``unconfigured_after``): with no settings it can reach no vendor, and
on a new household that is most of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import httpx2
from fastmcp import Client
from mcp import MCPError
from mcp.types import TextResourceContents

from angie.db.models import ServerHealth
from angie.errors import Unavailable
from angie.mcp.forked import Launcher, LauncherError, ServerProcess
from angie.mcp.launcher import Job
from angie.mcp.processes import die_with_parent, stop_process_group
from angie.mcp.registry import ServerSpec
from angie_mcp_core.configuration import CONFIGURATION_URI, Configuration

__all__ = (
    "Endpoint",
    "LauncherMode",
    "ServerGone",
    "ServerState",
    "Supervisor",
    "SupervisorError",
    "child_environ",
    "default_launcher",
    "stop_process_group",
    "stop_strays",
)

log = logging.getLogger(__name__)

#: How the supervisor makes a server's process: a fork of the pre-forked launcher, or an exec.
LauncherMode = Literal["fork", "exec"]

# What a child may inherit besides its own settings: enough to run Python, nothing secret.
_PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE")
_STABLE_AFTER = 60.0  # seconds up before the restart backoff starts again from the bottom
_ASK_CONFIGURATION = 10.0  # seconds a started server has to say whether it is configured
_RESTED = "was stopped while nobody used it"
_REST_GRACE = 2.0  # seconds an idle server has to exit before it is killed
_UNCONFIGURED_AFTER = 30.0  # seconds without a call before a server without settings rests


class SupervisorError(Unavailable):
    """A server could not be started or is not running; the message names it."""


class ServerGone(SupervisorError):
    """A server went away during a call (it crashed, or Angie is stopping): the call may or may
    not have acted, and the task is run again rather than settled on a half-made call."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    token: str
    generation: int


@dataclass(frozen=True, slots=True)
class ServerState:
    name: str
    health: ServerHealth
    url: str | None
    pid: int | None
    restarts: int
    last_error: str | None
    # What the running server says of its settings: None when it does not say (not a kit
    # server, or not running); the names (never values) of those it still lacks.
    configured: bool | None = None
    missing_settings: tuple[str, ...] = ()
    # Stopped while nobody used it: it starts again on the next call (health stays healthy).
    idle: bool = False


def default_launcher() -> LauncherMode:
    """``fork`` where the launcher works (Linux, with ``os.fork``; in the standalone binary
    too, which runs it as its own ``mcp-launcher`` entry), ``exec`` elsewhere."""
    return "fork" if sys.platform == "linux" and hasattr(os, "fork") else "exec"


def _fork_command(spec: ServerSpec) -> tuple[str, ...]:
    """``spec``'s command as the launcher runs it: the binary's ``mcp-server NAME`` entry is
    the server's package run as a module (the launcher imported it from the binary)."""
    command = spec.command
    if command[1:2] == ("mcp-server",) and spec.manifest is not None and len(command) > 2:
        return (command[0], "-m", spec.manifest.module, *command[3:])
    return command


def _startup_variable(name: str) -> bool:
    """A variable an interpreter reads as it starts (or fastmcp as it is imported): a forked
    child would keep the launcher's value of it."""
    return name.startswith(("PYTHON", "FASTMCP_", "LC_")) or name == "LANG"


def child_environ(spec: ServerSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """What a server's process may see: enough to run Python and its own ANGIE_<NAME>_* only.

    The one rule for every server Angie starts, built-in or third-party, under ``serve`` or
    ``angie mcp``: a server that works from the CLI works the same under the daemon."""
    env = {k: environ[k] for k in _PASS_THROUGH if k in environ}
    env.update({k: v for k, v in environ.items() if k.startswith(spec.env_prefix)})
    env.update(spec.env)
    env["FASTMCP_SHOW_SERVER_BANNER"] = "false"
    return env


def _launcher_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The launcher's environment: what every child's starts with, and no one's settings."""
    env = {k: environ[k] for k in _PASS_THROUGH if k in environ}
    env.update({"FASTMCP_SHOW_SERVER_BANNER": "false", "PYTHONUNBUFFERED": "1"})
    return env


def _children_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc; elsewhere none are found)."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.extend(int(child) for child in tasks.read_text().split())
    return found


async def stop_strays(grace: float) -> list[int]:
    """Stop what is left of Angie's children (a stdio server whose client never closed it):
    each one's process group, SIGKILL after ``grace``; returns their pids."""
    strays = _children_of(os.getpid())
    if strays:
        log.warning("stopping %d MCP server process(es) left running: %s", len(strays), strays)
        await asyncio.gather(*(stop_process_group(pid, grace) for pid in strays))
    return strays


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Child:
    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.process: ServerProcess | None = None
        self.health = ServerHealth.STOPPED
        self.endpoint: Endpoint | None = None
        self.generation = 0
        self.restarts = 0
        self.last_error: str | None = None  # with the end of its stderr, for the admin
        self.reason: str | None = None  # the same in a few words, for the person
        # Why the last few generations ended ("exited with code -9"): a call to one that is
        # already restarted (a forked server is back within milliseconds) still hears why.
        self.ended: dict[int, str] = {}
        self.started_at = 0.0  # when the current process came up; 0 while it has not
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.configuration: Configuration | None = None
        self.watcher: asyncio.Task[None] | None = None
        self.up = asyncio.Event()  # set while healthy: callers wait on it during a restart
        self.forked = False  # the current process came from the launcher
        self.last_used = 0.0  # when a caller last asked for it (monotonic)
        self.resting = False  # stopped for idleness: the next call starts it again
        self.waking: asyncio.Task[None] | None = None


class Supervisor:
    def __init__(
        self,
        specs: Iterable[ServerSpec],
        *,
        environ: Mapping[str, str],
        state_dir: Path,
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        on_restart: Callable[[str], None] | None = None,
        launcher: LauncherMode | None = None,
        idle_after: float | None = None,
        unconfigured_after: float = _UNCONFIGURED_AFTER,
        lender: Supervisor | None = None,
    ) -> None:
        """``idle_after``: seconds without a call after which a forked server is stopped until
        the next one (None or 0: never); ``unconfigured_after``: the same for a server that said
        it is not configured, when shorter. ``lender``: the supervisor whose launcher forks this
        one's servers too (one account's own instance forked beside the household's servers);
        its launcher mode is used and its launcher is left running at this one's stop."""
        self._children = {s.name: _Child(s) for s in specs if s.builtin and s.enabled}
        self._idle_after = idle_after or None
        self._unconfigured_after = min(unconfigured_after, idle_after or 0.0)
        self._reaper: asyncio.Task[None] | None = None
        self._lender = lender
        self._mode = self._choose(lender.launcher if lender is not None else launcher)
        self._launcher: Launcher | None = None
        self._launcher_lock = asyncio.Lock()
        self._environ = dict(environ)
        self._state_dir = state_dir
        self._host = host
        self._start_timeout = start_timeout
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._on_restart = on_restart
        self._stopping = False

    def stopping(self) -> bool:
        return self._stopping

    @staticmethod
    def _choose(launcher: LauncherMode | None) -> LauncherMode:
        if launcher is not None and launcher not in get_args(LauncherMode):
            raise ValueError(f"launcher {launcher!r} must be fork or exec")
        if launcher == "fork" and default_launcher() != "fork":
            log.warning("the fork launcher needs Linux; starting servers with exec")
            return "exec"
        return launcher or default_launcher()

    @property
    def launcher(self) -> LauncherMode:
        """How the next server's process is made (``fork`` falls back to ``exec`` for good when
        its launcher cannot start)."""
        return self._mode

    @property
    def launcher_pid(self) -> int | None:
        """The pid of the running launcher; None when there is none."""
        if self._lender is not None:
            return self._lender.launcher_pid
        found = self._launcher
        return found.pid if found is not None and found.alive else None

    @property
    def names(self) -> list[str]:
        return sorted(self._children)

    def _env(self, child: _Child, port: int, token: str) -> dict[str, str]:
        prefix = child.spec.env_prefix
        env = child_environ(child.spec, self._environ)
        env.update(
            {
                f"{prefix}TRANSPORT": "http",
                f"{prefix}HOST": self._host,
                f"{prefix}PORT": str(port),
                f"{prefix}TOKEN": token,
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    async def start(self) -> None:
        """Start every enabled built-in server in parallel; returns when all are up or failed."""
        self._stopping = False
        await asyncio.gather(*(self._launch(child) for child in self._children.values()))
        if self._idle_after is not None and self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_idle(self._idle_after))

    async def _launch(self, child: _Child, *, known: Configuration | None = None) -> None:
        """Start ``child`` and wait until it listens; ``known``: what it said of its settings
        before a rest, asked again otherwise (the same environment gives the same answer)."""
        port, token = _free_port(self._host), secrets.token_urlsafe(32)
        cwd = self._state_dir / child.spec.name
        cwd.mkdir(parents=True, exist_ok=True, mode=0o700)
        child.health = ServerHealth.STARTING
        child.up.clear()
        child.stderr_tail.clear()
        child.configuration = None
        child.started_at = 0.0
        child.last_used = time.monotonic()
        try:
            child.process = await self._spawn(child, self._env(child, port, token), cwd)
        except (OSError, LauncherError) as err:
            why = err.strerror if isinstance(err, OSError) else str(err)
            self._failed(child, f"cannot start {child.spec.describe()}: {why}")
            return
        asyncio.create_task(self._drain(child, child.process))  # noqa: RUF006 - ends with the process
        if await self._ready(child.process, port):
            url = f"http://{self._host}:{port}/mcp"
            child.configuration = known or await self._configuration(child.spec.name, url, token)
            child.generation += 1
            child.endpoint = Endpoint(url, token, child.generation)
            child.health = ServerHealth.HEALTHY
            child.started_at = time.monotonic()
            child.last_error = child.reason = None
            child.up.set()
            log.info(
                "MCP server %s is up on port %d (pid %d)", child.spec.name, port, child.process.pid
            )
        elif child.process.returncode is None:
            child.process.kill()
            await child.process.wait()
            self._failed(child, f"did not start within {self._start_timeout:g} s")
        else:
            await asyncio.sleep(0)  # let the stderr drain catch up
            self._failed(child, *self._exit_reason(child))
        child.watcher = asyncio.create_task(self._watch(child, child.process))

    async def _spawn(self, child: _Child, env: dict[str, str], cwd: Path) -> ServerProcess:
        """The child's process: forked by the launcher when it can be, else exec'd."""
        if self._lender is not None and self._lender.stopping():
            raise LauncherError("Angie is stopping")  # not exec'd now its launcher has gone
        launcher = await self._running_launcher() if self._forkable(child, env) else None
        child.forked = False
        if launcher is not None:
            try:
                process = await launcher.spawn(_fork_command(child.spec), env, cwd)
            except LauncherError as err:  # it died meanwhile: this one start goes by exec
                log.warning("MCP server %s: %s; starting it with exec", child.spec.name, err)
            else:
                child.forked = True
                return process
        return await asyncio.create_subprocess_exec(
            *child.spec.command,
            env=env,
            cwd=cwd,  # not Angie's cwd: a .env there holds every server's secrets
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,
            # Its own process group: a signal to Angie's group is not a stop order for it.
            start_new_session=True,
        )

    def _forkable(self, child: _Child, env: Mapping[str, str]) -> bool:
        """Whether the launcher can run this child exactly as an exec would: this Python
        running a module or a script, with the interpreter's start-up variables its own."""
        command = _fork_command(child.spec)
        if self._mode != "fork" or not command or command[0] != sys.executable:
            return False
        try:
            Job.parse(command)
        except ValueError:
            return False
        base = _launcher_environ(self._environ)
        differ = [k for k in {*env, *base} if _startup_variable(k) and env.get(k) != base.get(k)]
        if differ:
            log.info("MCP server %s sets %s: started with exec", child.spec.name, sorted(differ))
        return not differ

    def _modules(self) -> list[str]:
        """The packages the launcher imports: each forkable child's ``-m`` module."""
        commands = [_fork_command(c.spec) for c in self._children.values()]
        return sorted({c[2] for c in commands if c[:2] == (sys.executable, "-m") and len(c) > 2})

    async def _running_launcher(self) -> Launcher | None:
        """The launcher, started (again) if need be; None once it could not be."""
        if self._lender is not None:
            return None if self._stopping else await self._lender._running_launcher()
        async with self._launcher_lock:
            if self._launcher is not None and self._launcher.alive:
                return self._launcher
            if self._mode != "fork" or self._stopping:
                return None
            launcher = Launcher(
                environ=_launcher_environ(self._environ),
                cwd=self._state_dir,
                modules=self._modules(),
                start_timeout=self._start_timeout,
            )
            try:
                await launcher.start()
            except LauncherError as err:
                log.warning("%s; starting MCP servers with exec from now on", err)
                self._mode = "exec"
                return None
            self._launcher = launcher
            return launcher

    async def _configuration(self, name: str, url: str, token: str) -> Configuration | None:
        """What a server that listens says of its settings; None when it does not say."""
        try:
            async with asyncio.timeout(min(self._start_timeout, _ASK_CONFIGURATION)):
                async with Client(url, auth=token) as client:
                    contents = await client.read_resource(CONFIGURATION_URI)
            if not contents or not isinstance(contents[0], TextResourceContents):
                raise ValueError(f"{CONFIGURATION_URI} is not text")
            said = Configuration.model_validate_json(contents[0].text)
        except (TimeoutError, OSError, RuntimeError, MCPError, httpx2.HTTPError, ValueError) as err:
            # A server not built with the kit has no such resource (or an answer of its own).
            log.info("MCP server %s does not say whether it is configured: %r", name, err)
            return None
        if not said.configured:
            log.warning(
                "MCP server %s is not configured: %s missing",
                name,
                ", ".join(said.missing_settings) or "settings",
            )
        return said

    def _failed(self, child: _Child, reason: str, tail: str = "") -> None:
        child.health = ServerHealth.UNHEALTHY
        child.configuration = None
        child.up.clear()
        child.reason = reason
        child.last_error = reason + (f": {tail}" if tail else "")
        log.warning("MCP server %s: %s", child.spec.name, child.last_error)

    @staticmethod
    def _exit_reason(child: _Child) -> tuple[str, str]:
        code = child.process.returncode if child.process else None
        return f"exited with code {code}", " | ".join(list(child.stderr_tail)[-3:])

    async def _drain(self, child: _Child, process: ServerProcess) -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                child.stderr_tail.append(text)
                log.debug("[%s] %s", child.spec.name, text)

    async def _ready(self, process: ServerProcess, port: int) -> bool:
        started = time.monotonic()
        deadline = started + self._start_timeout
        while time.monotonic() < deadline and process.returncode is None:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(self._host, port)
                writer.close()
                await writer.wait_closed()
                return True
            # A fork listens within a few tens of milliseconds, an exec within a second or two.
            await asyncio.sleep(0.005 if time.monotonic() - started < 0.5 else 0.05)
        return False

    async def _watch(self, child: _Child, process: ServerProcess) -> None:
        """Restart the child when it exits, waiting longer after each quick failure."""
        await process.wait()
        # Stopped for idleness (perhaps already forked again by a call meanwhile): not a crash.
        lender_stopping = self._lender is not None and self._lender.stopping()
        if self._stopping or lender_stopping or child.resting or child.process is not process:
            return
        if child.health is ServerHealth.HEALTHY:
            self._failed(child, *self._exit_reason(child))
        child.ended[child.generation] = self._exit_reason(child)[0]
        for old in [g for g in child.ended if g < child.generation - 4]:
            del child.ended[old]
        # Only a process that came up and stayed up resets the backoff: one that never started
        # keeps waiting longer between tries instead of being restarted twice a second.
        if child.started_at and time.monotonic() - child.started_at > _STABLE_AFTER:
            child.restarts = 0
        delay = min(self._max_backoff, self._min_backoff * 2**child.restarts)
        child.restarts += 1
        log.info("restarting MCP server %s in %.1f s", child.spec.name, delay)
        await asyncio.sleep(delay)
        if self.stopping():  # stop() may have run while this task slept
            return
        await self._launch(child)
        if self._on_restart is not None:
            self._on_restart(child.spec.name)

    def endpoint(self, name: str) -> Endpoint:
        """Where a running server answers, with its current token."""
        child = self._children.get(name)
        if child is None:
            raise SupervisorError(f"no built-in MCP server named {name!r} is supervised")
        child.last_used = time.monotonic()
        if child.resting:
            raise SupervisorError(f"the {name} server is resting: ask for it with ready()")
        if child.health is not ServerHealth.HEALTHY or child.endpoint is None:
            if child.reason:  # "the hue server exited with code -9"
                raise SupervisorError(f"the {name} server {child.reason}")
            raise SupervisorError(f"the {name} server is {child.health.value}")
        return child.endpoint

    async def ready(self, name: str, *, within: float) -> Endpoint:
        """Where a server answers, waiting up to ``within`` seconds for one being restarted;
        :class:`SupervisorError` says which server and why when it cannot be had."""
        child = self._children.get(name)
        if child is not None and child.resting and not self._stopping:
            child.last_used = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._wake(child)), within)
        if child is not None and not self._stopping and not child.up.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.up.wait(), within)
        return self.endpoint(name)

    def _wake(self, child: _Child) -> asyncio.Task[None]:
        """Start a resting child again; callers asking at once share the one start."""
        if child.waking is None or child.waking.done():
            child.waking = asyncio.create_task(self._rise(child))
        return child.waking

    async def _rise(self, child: _Child) -> None:
        started = time.perf_counter()
        child.resting = False
        await self._launch(child, known=child.configuration)
        if child.health is ServerHealth.HEALTHY:
            log.info(
                "MCP server %s is back after its rest, in %.0f ms",
                child.spec.name,
                (time.perf_counter() - started) * 1000,
            )

    async def _reap_idle(self, idle_after: float) -> None:
        """Stop the forked servers nobody asked for in ``idle_after`` seconds (those that said
        they are not configured, in ``unconfigured_after``)."""
        every = min(max(self._unconfigured_after / 4, 0.05), 30.0)
        while not self._stopping:
            await asyncio.sleep(every)
            now = time.monotonic()
            for child in list(self._children.values()):
                said = child.configuration
                after = idle_after if said is None or said.configured else self._unconfigured_after
                if (
                    child.forked
                    and not child.resting
                    and child.health is ServerHealth.HEALTHY
                    and now - max(child.last_used, child.started_at) >= after
                ):
                    await self._rest(child)

    async def _rest(self, child: _Child) -> None:
        """Stop a healthy child until its next call; what it said of its settings stays."""
        process = child.process
        if process is None or process.returncode is not None:
            return
        log.info("stopping MCP server %s: nobody used it for a while", child.spec.name)
        child.resting = True
        child.up.clear()
        child.ended[child.generation] = _RESTED
        child.endpoint = None
        await stop_process_group(process.pid, _REST_GRACE)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 1.0)

    async def went_away(self, name: str, generation: int, *, within: float = 0.5) -> str | None:
        """Why the server a call was made to (its ``generation``) is gone (``"exited with code
        -9"``, ``"was stopped with Angie"``), waiting up to ``within`` seconds for its exit to
        be seen; None while that process still runs."""
        child = self._children.get(name)
        if child is None:
            return None
        if self._stopping:
            return "was stopped with Angie"
        process = child.process
        if child.generation != generation or child.resting:
            return child.ended.get(generation, "was restarted")
        if child.health is not ServerHealth.HEALTHY:
            return child.reason or f"is {child.health.value}"
        if process is not None and process.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(process.wait()), within)
        if self.stopping():  # Angie began to stop while the exit was awaited
            return "was stopped with Angie"
        if process is not None and process.returncode is not None:
            return f"exited with code {process.returncode}"
        return None

    def states(self) -> list[ServerState]:
        return [
            ServerState(
                name=name,
                health=child.health,
                url=child.endpoint.url if child.endpoint else None,
                pid=child.process.pid
                if child.process and child.process.returncode is None and not child.resting
                else None,
                restarts=child.restarts,
                last_error=child.last_error,
                configured=child.configuration.configured if child.configuration else None,
                missing_settings=tuple(child.configuration.missing_settings)
                if child.configuration
                else (),
                idle=child.resting,
            )
            for name, child in sorted(self._children.items())
        ]

    async def stop(self, grace: float = 5.0) -> None:
        """Terminate every child with its process group (SIGTERM, then SIGKILL after ``grace``
        seconds), whatever the child does with the signal."""
        self._stopping = True
        children = list(self._children.values())
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
            self._reaper = None
        for child in children:
            if child.watcher is not None:
                child.watcher.cancel()
            if child.waking is not None:
                child.waking.cancel()
            child.up.clear()
        await asyncio.gather(
            *(
                stop_process_group(c.process.pid, grace)
                for c in children
                if c.process is not None and not c.resting  # a resting one went with its group
            )
        )
        for child in children:
            if child.process is not None and child.process.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(child.process.wait(), 1.0)
            child.health = ServerHealth.STOPPED
            child.endpoint = None
        await asyncio.gather(
            *(t for c in children for t in (c.watcher, c.waking) if t is not None),
            return_exceptions=True,
        )
        for child in children:
            child.resting = False
        async with self._launcher_lock:
            if self._launcher is not None:
                await self._launcher.stop(grace)
                self._launcher = None
