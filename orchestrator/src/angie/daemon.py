"""Angie's long-running process: the database, the MCP supervisor, the task queue's worker,
the scheduler, feedback and the API, started in order and stopped cleanly on SIGTERM.

``angie serve`` runs all of it in one process (the embedded default); in production
``angie api``, one ``angie daemon`` (scheduler, feedback, approvals) and N ``angie worker``
processes split it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from importlib.metadata import version as dist_version
from typing import TYPE_CHECKING, Any, Literal

from pydantic_ai.models import Model

from angie.agents.approvals import ApprovalService
from angie.agents.chat import ChatTurn
from angie.agents.direct import DirectCaller
from angie.agents.fleet import seed_fleet
from angie.agents.llm import build_model
from angie.agents.memory import ConversationMemory
from angie.agents.runner import AgentFactory
from angie.agents.toolbox import Toolbox
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import EventType, Schedule
from angie.events.router import EventRouter, NewEvent, Route
from angie.feedback import Feedback
from angie.live import LiveBus
from angie.mcp.catalog import server_environ, servers
from angie.mcp.registry import ServerSpec
from angie.mcp.store import enabled_choices
from angie.mcp.supervisor import ServerState, Supervisor
from angie.prompts import (
    HouseholdPromptStore,
    PromptComposer,
    PromptLibrary,
    UserPromptStore,
    prompts_dir,
)
from angie.settings import AngieSettings
from angie.tasks.queue import TaskQueue, create_broker
from angie.tasks.service import TaskService
from angie.worker import Executor

if TYPE_CHECKING:
    from pathlib import Path

    import uvicorn

    from angie.api.auth import AuthService
    from angie.scheduler import CronFire, Scheduler

__all__ = ("Angie", "Role")

log = logging.getLogger(__name__)

Role = Literal["serve", "daemon", "worker", "api"]
ModelFor = Callable[[str | None], Model]
_SWEEP_SECONDS = 15.0


class Angie:
    def __init__(
        self,
        settings: AngieSettings,
        *,
        role: Role = "serve",
        api: bool = True,
        host: str | None = None,
        port: int | None = None,
        env_file: Path | None = None,
        model_for: ModelFor | None = None,
        specs: Mapping[str, ServerSpec] | None = None,
        environ: Mapping[str, str] | None = None,
        worker_threads: int | None = None,
        scheduler: bool = True,
    ) -> None:
        self.settings = settings
        self.role = role
        self.version = dist_version("angie")
        self.database = Database(settings.database_url)
        self._api = api and role in ("serve", "api")
        self._with_scheduler = scheduler
        self._host = host or settings.host
        self._port = port or settings.port
        self._env_file = env_file
        self._fixed_specs = dict(specs) if specs is not None else None
        self._specs: dict[str, ServerSpec] = {}
        self._environ = dict(environ) if environ is not None else server_environ(env_file)
        self._threads = worker_threads or settings.worker_threads
        self.model_for: ModelFor = model_for or (lambda name: build_model(name, settings))
        self.queue = TaskQueue(create_broker(settings.redis_url))
        self.tasks = TaskService(self.database)
        # What tasks do, live, for whoever watches (the chat routes); through Redis when split.
        self.live = LiveBus(self.database, redis_url=settings.redis_url)
        self.feedback = Feedback(self.database, live=self.live)
        self.supervisor: Supervisor | None = None
        self.scheduler: Scheduler | None = None
        self._server: uvicorn.Server | None = None
        # The API's sign-in service; None means the default built from the settings.
        self.api_auth: AuthService | None = None
        self._api_task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[Any]] = []
        self._stopped = asyncio.Event()
        library = PromptLibrary(prompts_dir())
        self.prompts = PromptComposer(library, HouseholdPromptStore(self.database, library))
        self.user_prompts = UserPromptStore(self.database, library)
        self.approvals = ApprovalService(
            self.database,
            ttl=settings.approval_ttl,
            servers=lambda: self._specs.keys(),
            live=self.live,
        )
        self.router = EventRouter(self.database, self.tasks, self.queue.enqueue)
        self.toolbox = Toolbox(
            self.database,
            servers=lambda: self._specs,
            supervisor=None,
            timeout=settings.mcp_timeout,
            live=self.live,
        )
        self.factory = AgentFactory(self.database, self.toolbox, self.prompts, self.model_for)
        self.direct = DirectCaller(self.toolbox)
        memory = ConversationMemory(
            self.database, keep=settings.history_messages, summarise=self._summarise
        )
        chat = ChatTurn(
            self.factory,
            memory,
            self.user_prompts,
            self.direct,
            self.tasks,
            self.approvals,
            live=self.live,
        )
        self.executor = Executor(
            self.tasks,
            self.factory,
            chat,
            self.approvals,
            self.feedback,
            lambda task_id, delay: self.queue.enqueue(task_id, delay_ms=delay),
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def runs_worker(self) -> bool:
        return self.role == "worker" or (self.role == "serve" and self.queue.embedded)

    async def start(self) -> None:
        await migrate.upgrade(self.database.engine)
        async with self.database.session() as session:
            await seed_fleet(session, prompts_dir())
            choices = await enabled_choices(session)
        self._specs = (
            self._fixed_specs if self._fixed_specs is not None else servers(self.settings, choices)
        )
        if self.runs_worker:
            await self._start_supervisor()
            self.queue.start_worker(self.executor.handle, threads=self._threads)
            if self.queue.embedded:
                # The embedded queue lives in memory: what the database says is unfinished
                # (queued, or running when the process died) goes back on it.
                for task_id in await self.tasks.unfinished():
                    self.queue.enqueue(task_id)
        if self.role in ("serve", "daemon"):
            if self._with_scheduler:
                await self._start_scheduler()
            self._background.append(asyncio.create_task(self._sweep(), name="angie-sweep"))
        if self._api:
            await self._start_api()
        log.info("Angie %s is up (%s)", self.version, self.role)

    async def _start_supervisor(self) -> None:
        self.supervisor = Supervisor(
            self._specs.values(),
            environ=self._environ,
            state_dir=self.settings.data_dir / "mcp",
        )
        self.toolbox.attach(self.supervisor)
        await self.supervisor.start()

    async def _start_scheduler(self) -> None:
        from angie.scheduler import Scheduler

        self.scheduler = Scheduler(self.database, self._on_cron)
        await self.scheduler.start()

    async def _start_api(self) -> None:
        import uvicorn

        from angie.api.app import create_app

        config = uvicorn.Config(
            create_app(self, auth_service=self.api_auth),
            host=self._host,
            port=self._port,
            log_level=self.settings.log_level.lower(),
            # Angie logs each request herself (with its id, without query strings), and
            # uvicorn's own lines go through her log setup (text or JSON, secrets masked).
            access_log=False,
            log_config=None,
            lifespan="on",
        )
        self._server = _uvicorn_server()(config)
        self._api_task = asyncio.create_task(self._server.serve(), name="angie-api")
        self._background.append(self._api_task)
        while not self._server.started:
            if self._api_task.done():
                self._api_task.result()
                raise RuntimeError(f"the API could not listen on {self._host}:{self._port}")
            await asyncio.sleep(0.02)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop taking work, let running tasks finish (up to ``grace``), then stop the rest."""
        if self._server is not None:
            self._server.should_exit = True
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        await self.queue.stop_worker(grace)
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
        if self.supervisor is not None:
            await self.supervisor.stop()
        self.queue.close()
        await self.live.aclose()
        await self.database.dispose()
        self._stopped.set()
        log.info("Angie stopped")

    async def run(self) -> None:
        """Start, then run until SIGTERM or SIGINT, then stop cleanly."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    # -- work --------------------------------------------------------------------------------

    async def submit(self, event: NewEvent) -> Route:
        return await self.router.accept(event)

    async def _on_cron(self, fire: CronFire) -> None:
        async with self.database.session() as session:
            schedule = await session.get(Schedule, fire.schedule_id)
            if schedule is None:
                return
            payload: dict[str, Any] = {
                "schedule_id": schedule.id,
                "schedule": schedule.name,
                "instruction": schedule.instruction,
                "scheduled_at": fire.scheduled_at.isoformat(),
                "catch_up": fire.catch_up,
            }
            for key in ("agent_id", "team_id", "workflow_id"):
                if getattr(schedule, key) is not None:
                    payload[key] = getattr(schedule, key)
        await self.submit(
            NewEvent(
                EventType.CRON,
                source=f"scheduler:{fire.schedule_id}",
                user_id=fire.user_id,
                payload=payload,
                dedupe_key=f"cron:{fire.schedule_id}:{fire.scheduled_at.isoformat()}",
            )
        )

    async def _sweep(self) -> None:
        """Expire unanswered approvals; put back queued tasks whose message was lost."""
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            try:
                await self.executor.expire_approvals()
                if not self.queue.embedded:
                    for task_id in await self.tasks.stale_queued(timedelta(minutes=5)):
                        self.queue.enqueue(task_id)
            except Exception:
                log.exception("the periodic sweep failed; trying again later")

    async def _summarise(self, previous: str | None, lines: list[str]) -> str:
        from pydantic_ai import Agent

        agent: Agent[None, str] = Agent(
            self.model_for(None),
            instructions=(
                "Summarise this conversation for your own memory: facts, decisions, open "
                "requests and the person's preferences, in a few short lines."
            ),
        )
        prompt = (f"Summary so far:\n{previous}\n\n" if previous else "") + "\n".join(lines)
        return (await agent.run(prompt)).output

    def server_states(self) -> list[ServerState]:
        return self.supervisor.states() if self.supervisor is not None else []


def _uvicorn_server() -> type[uvicorn.Server]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling: Angie's stops everything in order."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server
