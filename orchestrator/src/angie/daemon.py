"""Angie's long-running process: it runs what :mod:`angie.services` built — the database, the
MCP supervisor, the task queue's worker, the scheduler, the periodic sweep and the API — started
in order and stopped cleanly on SIGTERM.

``angie serve`` runs all of it in one process (the embedded default); in production
``angie api``, one ``angie daemon`` (scheduler, feedback, approvals) and N ``angie worker``
processes split it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.exc import IntegrityError

from angie.accounts import AuthService
from angie.agents.fleet import seed_fleet
from angie.channels.hub import ChannelFactory
from angie.db import migrate
from angie.events.router import NewEvent, Route
from angie.mcp.registry import ServerSpec
from angie.mcp.sign_ins import SignInWatch
from angie.mcp.supervisor import ServerState, Supervisor, stop_strays
from angie.prompts import prompts_dir
from angie.services import ModelFor, Services, build_services
from angie.settings import AngieSettings

if TYPE_CHECKING:
    import socket
    from pathlib import Path

    import uvicorn

__all__ = ("Angie", "Role")

log = logging.getLogger(__name__)

Role = Literal["serve", "daemon", "worker", "api"]
_SWEEP_SECONDS = 15.0
# Scratch files are swept at start and then hourly: their retention is counted in days.
_SCRATCH_SWEEP_SECONDS = 3600.0
# The sign-ins are first checked a while after start, when the servers have settled.
_SIGN_IN_FIRST_CHECK = timedelta(minutes=5)
_SERVER_GRACE = 2.0  # seconds an MCP server has to exit on SIGTERM before SIGKILL
_MAX_REQUEST_HEAD_BYTES = 65_536


class Angie:
    """One Angie process in a role; ``services`` holds everything it runs."""

    def __init__(
        self,
        settings: AngieSettings,
        *,
        role: Role = "serve",
        api: bool = True,
        host: str | None = None,
        port: int | None = None,
        api_socket: socket.socket | None = None,
        env_file: Path | None = None,
        model_for: ModelFor | None = None,
        specs: Mapping[str, ServerSpec] | None = None,
        environ: Mapping[str, str] | None = None,
        worker_threads: int | None = None,
        scheduler: bool = True,
        auth: AuthService | None = None,
        demo: bool = False,
        channel_factory: ChannelFactory | None = None,
    ) -> None:
        self.role = role
        self.services: Services = build_services(
            settings,
            env_file=env_file,
            model_for=model_for,
            specs=specs,
            environ=environ,
            auth=auth,
            demo=demo,
            channel_factory=channel_factory,
        )
        self._api = api and role in ("serve", "api")
        self._with_scheduler = scheduler
        self._host = host or settings.host
        self._port = port or settings.port
        # ``angie serve`` binds the API's port before anything starts and hands it over here.
        self._api_socket = api_socket
        self._threads = worker_threads or settings.worker_threads
        self._server: uvicorn.Server | None = None
        self._api_task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[Any]] = []

    @property
    def settings(self) -> AngieSettings:
        return self.services.settings

    @property
    def runs_worker(self) -> bool:
        # ``serve`` is all in one: with Redis too it consumes the queue, as ``angie worker``
        # does, or the tasks it accepts would wait for a worker nobody started.
        return self.role in ("serve", "worker")

    @property
    def runs_scheduler(self) -> bool:
        return self.role in ("serve", "daemon") and self._with_scheduler

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        services = self.services
        await migrate.upgrade(services.database.engine)
        await self._seed()
        async with services.database.session() as session:
            await services.servers.load(session, services.settings)
            if self.role in ("serve", "api"):
                # Where accounts are made: the first one needs the code shown now.
                await services.setup.prepare(session)
        if self.runs_worker:
            await self._start_supervisor()
            services.queue.start_worker(services.executor.handle, threads=self._threads)
            # Where the servers run: warn before a sign-in expires (two processes checking at
            # once still send one warning).
            watch = SignInWatch(
                services.database,
                services.feedback,
                specs=lambda: services.servers.specs,
                supervisor=services.servers.supervisor,
                accounts=services.toolbox.accounts,
            )
            self._background.append(
                asyncio.create_task(
                    watch.forever(first_after=_SIGN_IN_FIRST_CHECK), name="angie-sign-in-watch"
                )
            )
            if services.queue.embedded:
                # The embedded queue lives in memory: what the database says is unfinished
                # (queued, or running when the process died) goes back on it.
                for task_id in await services.tasks.unfinished():
                    services.queue.enqueue(task_id)
        if self.role in ("serve", "daemon"):
            if self._with_scheduler:
                # Fires only while this process holds the scheduler's lease; another daemon
                # on the same database stands by until it can take the lease over.
                await services.scheduler_leader.start()
            self._background.append(asyncio.create_task(self._sweep(), name="angie-sweep"))
            self._background.append(
                asyncio.create_task(self._sweep_scratch(), name="angie-scratch-sweep")
            )
        if self.role in ("serve", "daemon") or (self.role == "api" and self._api):
            # The channel hub hears of replies other processes wrote (with Redis).
            await services.live.start()
        if self.role == "serve":
            await services.hub.start("all")
        elif self.role == "daemon":
            # Split: the daemon keeps the platforms' connections open; the channels that
            # receive by webhook run where the HTTP calls arrive (`angie api`).
            await services.hub.start("connections")
        elif self.role == "api" and self._api:
            await services.hub.start("webhooks")
        if self._api:
            await self._start_api()
        log.info(
            "Angie %s is up (%s; queue %s%s)",
            services.version,
            self.role,
            "embedded" if services.queue.embedded else "Redis",
            ", with a worker" if self.runs_worker else "",
        )

    async def _seed(self) -> None:
        """Seed the fleet; processes started together (a worker and a daemon) may race to it,
        and the one that loses reads what the other wrote."""
        for attempt in (1, 2):
            try:
                async with self.services.database.session() as session:
                    await seed_fleet(session, prompts_dir())
                return
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("another Angie process seeded the fleet meanwhile; reading it again")

    async def _start_supervisor(self) -> None:
        services = self.services
        supervisor = Supervisor(
            services.servers.specs.values(),
            environ=services.environ,
            state_dir=services.settings.data_dir / "mcp",
            launcher=services.settings.mcp_launcher,
            idle_after=_idle_after(services.settings),
        )
        services.servers.supervisor = supervisor
        services.toolbox.attach(supervisor)
        services.toolbox.accounts.fork_from(supervisor, idle_after=_idle_after(services.settings))
        await supervisor.start()

    async def _start_api(self) -> None:
        import uvicorn

        from angie.api.app import create_app
        from angie.instance import bind_api_socket

        config = uvicorn.Config(
            create_app(self.services, bind_host=self._host),
            host=self._host,
            port=self._port,
            log_level=self.settings.log_level.lower(),
            # Angie logs each request herself (with its id, without query strings), and
            # uvicorn's own lines go through her log setup (text or JSON, secrets masked).
            access_log=False,
            log_config=None,
            lifespan="on",
            # h11 bounds what a request's head may hold (httptools buffers any size); Angie
            # answers smaller excesses herself with a 431 and its reason.
            http="h11",
            h11_max_incomplete_event_size=_MAX_REQUEST_HEAD_BYTES,
            # uvicorn believes X-Forwarded-For from loopback by default; Angie only from the
            # proxies she is told of (the client address is what the login limits count).
            proxy_headers=bool(self.settings.trusted_proxies),
            forwarded_allow_ips=self.settings.trusted_proxies or None,
        )
        sock = self._api_socket or bind_api_socket(self._host, self._port)
        self._api_socket = None  # uvicorn closes it when it stops
        self._server = _uvicorn_server()(config)
        self._api_task = asyncio.create_task(self._server.serve(sockets=[sock]), name="angie-api")
        self._background.append(self._api_task)
        while not self._server.started:
            if self._api_task.done():
                self._api_task.result()
                raise RuntimeError(f"the API could not listen on {self._host}:{self._port}")
            await asyncio.sleep(0.02)
        log.info("the API listens on %s:%d", self._host, sock.getsockname()[1])

    async def stop(self, grace: float = 30.0) -> None:
        """Stop taking work, let running tasks finish (up to ``grace``), then stop the rest.

        The MCP servers go last: they run in process groups of their own, so a SIGTERM to
        Angie's group does not reach them, and the tasks use them to the end. A task still
        running after ``grace`` is stopped and stays ``running``, to run again at the next
        start. The supervised servers are stopped with their process groups; run() also stops
        any other child left, so no server, hung or not, outlives the process."""
        services = self.services
        if self._server is not None:
            self._server.should_exit = True
        await services.scheduler_leader.stop()
        await services.queue.stop_worker(grace)
        # After the worker: its last replies are in the ledger and may still go out.
        await services.hub.send_due_once()
        await services.hub.stop()
        if self._api_task is not None:
            # uvicorn finishes its own shutdown (lifespan included) once told to exit.
            with contextlib.suppress(Exception):  # a failed or slow API exit is logged by uvicorn
                await asyncio.wait_for(asyncio.shield(self._api_task), 10)
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        if services.servers.supervisor is not None:
            # The accounts' own instances first: they may be forks of its launcher.
            await services.toolbox.accounts.aclose()
            await services.servers.supervisor.stop(grace=_SERVER_GRACE)
        if self._api_socket is not None:  # handed over, but the API never started
            self._api_socket.close()
            self._api_socket = None
        await services.aclose()
        log.info("Angie stopped")

    async def run(
        self, *, grace: float = 30.0, started: Callable[[], Awaitable[object]] | None = None
    ) -> None:
        """Start, then run until SIGTERM or SIGINT, then stop cleanly; ``started`` runs once
        Angie is up. The process ends within ``grace`` and a few seconds, whatever a server
        or a task does: what is still running then is abandoned, not waited for."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            if started is not None:
                await started()
            await stop.wait()
        finally:
            await self.stop(grace)
            # The process is Angie's own here: whatever child is left (a stdio server a
            # stopped task's client had not closed yet) is hers, and goes with her.
            await stop_strays(_SERVER_GRACE)
            await _end_stragglers(_SERVER_GRACE)

    # -- work --------------------------------------------------------------------------------

    async def submit(self, event: NewEvent) -> Route:
        return await self.services.submit(event)

    async def _sweep(self) -> None:
        """Expire unanswered approvals; put back queued tasks whose message was lost."""
        services = self.services
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            try:
                await services.executor.expire_approvals()
                if not services.queue.embedded:
                    for task_id in await services.tasks.stale_queued(timedelta(minutes=5)):
                        services.queue.enqueue(task_id)
            except Exception:
                log.exception("the periodic sweep failed; trying again later")

    async def _sweep_scratch(self) -> None:
        """Delete scratch files older than ANGIE_SCRATCH_RETENTION_DAYS, now and every hour."""
        while True:
            try:
                await self.services.scratch.sweep()
            except Exception:
                # A storage that is down now may be back at the next round.
                log.exception("the scratch-file sweep failed; trying again later")
            await asyncio.sleep(_SCRATCH_SWEEP_SECONDS)

    def server_states(self) -> list[ServerState]:
        return self.services.servers.states()


def _idle_after(settings: AngieSettings) -> float | None:
    """Seconds before an unused forked server is stopped; never so few that a call still
    running (up to ANGIE_MCP_TIMEOUT) could be cut short."""
    if not settings.mcp_idle_seconds:
        return None
    return max(settings.mcp_idle_seconds, 2 * settings.mcp_timeout)


async def _end_stragglers(within: float) -> None:
    """Cancel what is left on the loop (a client still closing a dead server's pipes) and wait
    ``within`` seconds; the process then exits even if something ignores its cancellation,
    since asyncio would wait for it forever."""
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:
        task.cancel()
    if not others:
        return
    _, pending = await asyncio.wait(others, timeout=within)
    if pending:
        log.error("%d task(s) ignored the stop; exiting without them", len(pending))
        logging.shutdown()
        os._exit(0)


def _uvicorn_server() -> type[uvicorn.Server]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling: Angie's stops everything in order."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server
