"""Angie's composition root: every service built once, from the settings, and wired together.

The process (:mod:`angie.daemon`) only runs what is built here; the API's routes, the channels
and Angie's own MCP server take the services they need from one :class:`Services` and never
reach into the process. Nothing here starts anything: building is cheap and side-effect free.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.models import Model
from sqlalchemy.ext.asyncio import AsyncSession

from angie.accounts import AuthService
from angie.accounts.setup_code import SetupCode
from angie.agents.approvals import ApprovalService
from angie.agents.chat import ChatTurn
from angie.agents.direct import DirectCaller
from angie.agents.limits import RunLimits
from angie.agents.llm import build_model
from angie.agents.memory import ConversationMemory
from angie.agents.runner import AgentFactory
from angie.agents.toolbox import Toolbox
from angie.cache import Cache, create_cache
from angie.channel_states import ChannelStates
from angie.channels.hub import ChannelFactory, ChannelHub
from angie.db.engine import Database
from angie.db.models import EventType, Schedule, User
from angie.events.router import EventRouter, NewEvent, Route
from angie.feedback import Feedback
from angie.live import LiveBus, LiveType
from angie.mcp.catalog import server_environ, servers
from angie.mcp.registry import ServerSpec
from angie.mcp.store import enabled_choices
from angie.mcp.supervisor import ServerState, Supervisor
from angie.mcp.web_sign_in import SignIns
from angie.prompts import (
    HouseholdPromptStore,
    PromptComposer,
    PromptLibrary,
    UserPromptStore,
    prompts_dir,
)
from angie.scheduler import CronFire, Scheduler
from angie.scheduler.leader import SchedulerLeader
from angie.scheduler.lease import DatabaseLease
from angie.settings import AngieSettings
from angie.storage import Storage, StorageCredentials, open_storage
from angie.storage.scratch import ScratchFiles
from angie.tasks.queue import TaskQueue, create_broker
from angie.tasks.service import TaskService
from angie.worker import Executor

__all__ = ("ModelFor", "ServerSet", "Services", "build_services", "build_storage", "on_cron")

log = logging.getLogger(__name__)

ModelFor = Callable[[str | None], Model]


@dataclass(slots=True)
class ServerSet:
    """The MCP servers this Angie has: their specs (known once the database is read) and, in
    the process that runs them, their supervisor."""

    fixed: Mapping[str, ServerSpec] | None = None
    specs: dict[str, ServerSpec] = field(default_factory=dict)
    supervisor: Supervisor | None = None

    async def load(self, session: AsyncSession, settings: AngieSettings) -> None:
        """Built-ins, the mcpServers file and the person's on/off choices from the database."""
        if self.fixed is not None:
            self.specs = dict(self.fixed)
        else:
            self.specs = servers(settings, await enabled_choices(session))

    def states(self) -> list[ServerState]:
        return self.supervisor.states() if self.supervisor is not None else []


@dataclass(slots=True)
class Services:
    """Everything Angie does, built once per process; see :func:`build_services`."""

    settings: AngieSettings
    version: str
    database: Database
    model_for: ModelFor
    servers: ServerSet
    environ: dict[str, str]
    queue: TaskQueue
    tasks: TaskService
    live: LiveBus
    feedback: Feedback
    library: PromptLibrary
    prompts: PromptComposer
    household_prompts: HouseholdPromptStore
    user_prompts: UserPromptStore
    approvals: ApprovalService
    events: EventRouter
    toolbox: Toolbox
    factory: AgentFactory
    direct: DirectCaller
    executor: Executor
    schedules: Scheduler
    # Runs ``schedules`` in the one daemon holding the scheduler's lease (daemon and serve).
    scheduler_leader: SchedulerLeader
    cache: Cache
    setup: SetupCode
    # Whether each person's channels are connected, as their adapters report it.
    channels: ChannelStates
    # Runs the chat channels' adapters (in ``serve`` and ``daemon`` only).
    hub: ChannelHub
    # Where files are kept (ANGIE_STORAGE_URL), and the conversations' scratch files on it.
    storage: Storage
    scratch: ScratchFiles
    # Accounts being connected from the browser (the server's own sign-in, run here).
    sign_ins: SignIns
    # A demo home (`angie serve --demo`): simulated devices, said in the status and the prompt.
    demo: bool = False
    # Sign-in needs the secret key, which only the processes that serve the API must have:
    # made on first use unless given.
    auth_service: AuthService | None = None

    @property
    def auth(self) -> AuthService:
        if self.auth_service is None:
            self.auth_service = AuthService(self.settings.secret, redis_url=self.settings.redis_url)
        return self.auth_service

    async def submit(self, event: NewEvent) -> Route:
        """Turn an event into work (a task on the queue) by Angie's event rules."""
        return await self.events.accept(event)

    async def deactivated(self, user_id: int) -> None:
        """Stop what acts for a person whose account was deactivated: their crons pause and
        their pending approvals expire (their webhooks check their owner on each delivery).
        Reactivation turns nothing back on by itself."""
        paused = await self.schedules.pause_all(user_id)
        expired = await self.executor.expire_approvals(user_id=user_id)
        log.info(
            "user %s deactivated: %d schedules paused (%s), %d approvals expired",
            user_id,
            len(paused),
            ", ".join(str(s.id) for s in paused) or "none",
            expired,
        )

    async def aclose(self) -> None:
        await self.sign_ins.aclose()
        await self.toolbox.aclose()
        self.queue.close()
        await self.live.aclose()
        await self.cache.close()
        await self.storage.aclose()
        await self.database.dispose()


def build_services(
    settings: AngieSettings,
    *,
    env_file: Path | None = None,
    model_for: ModelFor | None = None,
    specs: Mapping[str, ServerSpec] | None = None,
    environ: Mapping[str, str] | None = None,
    auth: AuthService | None = None,
    demo: bool = False,
    channel_factory: ChannelFactory | None = None,
) -> Services:
    """Build and wire every service from the settings (nothing starts here)."""
    database = Database(settings.database_url)
    model_for = model_for or (lambda name: build_model(name, settings))
    server_set = ServerSet(fixed=dict(specs) if specs is not None else None)
    server_env = dict(environ) if environ is not None else server_environ(env_file)
    queue = TaskQueue(create_broker(settings.redis_url))
    tasks = TaskService(database)
    # What tasks do, live, for whoever watches (the chat routes); through Redis when split.
    live = LiveBus(database, redis_url=settings.redis_url)
    feedback = Feedback(database, live=live)
    library = PromptLibrary(prompts_dir())
    household = HouseholdPromptStore(database, library)
    composer = PromptComposer(library, household, demo=demo)
    user_prompts = UserPromptStore(database, library)
    approvals = ApprovalService(
        database, ttl=settings.approval_ttl, servers=lambda: server_set.specs.keys(), live=live
    )
    events = EventRouter(database, tasks, queue.enqueue)
    toolbox = Toolbox(
        database,
        servers=lambda: server_set.specs,
        supervisor=None,
        timeout=settings.mcp_timeout,
        live=live,
        max_repeated_calls=settings.max_repeated_calls,
        environ=server_env,
    )
    limits = RunLimits(
        model_requests=settings.max_model_requests,
        tool_calls=settings.max_tool_calls,
        tokens=settings.max_tokens_per_run,
        seconds=settings.max_run_seconds,
        task_tool_calls=settings.max_tool_calls_per_task,
        task_tokens=settings.max_tokens_per_task,
    )
    storage = build_storage(settings)
    scratch = ScratchFiles(
        storage,
        max_bytes=settings.scratch_max_bytes,
        retention=timedelta(days=settings.scratch_retention_days),
    )
    factory = AgentFactory(database, toolbox, composer, model_for, limits=limits, scratch=scratch)
    direct = DirectCaller(toolbox)

    async def summarise(previous: str | None, lines: list[str]) -> str:
        agent: Agent[None, str] = Agent(
            model_for(None),
            instructions=(
                "Summarise this conversation for your own memory: facts, decisions, open "
                "requests and the person's preferences, in a few short lines."
            ),
        )
        prompt = (f"Summary so far:\n{previous}\n\n" if previous else "") + "\n".join(lines)
        return (await agent.run(prompt)).output

    memory = ConversationMemory(database, keep=settings.history_messages, summarise=summarise)
    chat = ChatTurn(factory, memory, user_prompts, direct, tasks, approvals, live=live)
    schedules = Scheduler(database, lambda fire: on_cron(database, events, fire))
    leader = SchedulerLeader(
        schedules,
        DatabaseLease(database, ttl=settings.scheduler_lease_seconds),
        renew_every=settings.scheduler_renew_seconds,
    )
    executor = Executor(
        tasks,
        factory,
        chat,
        approvals,
        feedback,
        lambda task_id, delay: queue.enqueue(task_id, delay_ms=delay),
        daily_budget=settings.daily_budget_usd,
    )
    states = ChannelStates()
    hub = ChannelHub(
        database,
        # Read when a channel starts: processes that run none need no key.
        secret_key=lambda: settings.secret,
        states=states,
        submit=events.accept,
        decide=lambda approval_id, approve, user_id: executor.decide(
            approval_id, approve=approve, user_id=user_id
        ),
        factory=channel_factory,
    )
    feedback.on_ledger = hub.wake
    # A reply another process wrote (a worker's) is in the ledger before it is announced:
    # the hub sends it now rather than at its next poll.
    live.observe(lambda event: hub.wake() if event.type is LiveType.REPLY else None)
    return Services(
        settings=settings,
        version=dist_version("angie"),
        database=database,
        model_for=model_for,
        servers=server_set,
        environ=server_env,
        queue=queue,
        tasks=tasks,
        live=live,
        feedback=feedback,
        library=library,
        prompts=composer,
        household_prompts=household,
        user_prompts=user_prompts,
        approvals=approvals,
        events=events,
        toolbox=toolbox,
        factory=factory,
        direct=direct,
        executor=executor,
        schedules=schedules,
        scheduler_leader=leader,
        auth_service=auth,
        cache=create_cache(settings.redis_url),
        setup=SetupCode(settings.data_dir),
        channels=states,
        hub=hub,
        storage=storage,
        scratch=scratch,
        sign_ins=SignIns(database, environ=server_env, root=settings.data_dir / "mcp"),
        demo=demo,
    )


def build_storage(settings: AngieSettings) -> Storage:
    """The storage ANGIE_STORAGE_URL names, with the settings' credentials (not contacted)."""
    credentials = StorageCredentials(
        access_key_id=settings.storage_access_key_id,
        secret_access_key=settings.storage_secret_access_key,
        password=settings.storage_password,
        ssh_key=settings.storage_ssh_key,
        known_hosts=settings.storage_known_hosts,
    )
    return open_storage(settings.storage_url or (settings.data_dir / "files").as_uri(), credentials)


async def on_cron(database: Database, events: EventRouter, fire: CronFire) -> None:
    """A cron tick becomes a cron event for the schedule's owner (once per tick)."""
    async with database.session() as session:
        schedule = await session.get(Schedule, fire.schedule_id)
        if schedule is None:
            return
        owner = await session.get(User, schedule.user_id)
        if owner is None or not owner.is_active:
            # Deactivated: the pause reaches a daemon's jobs at its next reconcile; until
            # then a tick acts for nobody.
            log.info("schedule %s belongs to a deactivated account; tick dropped", schedule.id)
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
    await events.accept(
        NewEvent(
            EventType.CRON,
            source=f"scheduler:{fire.schedule_id}",
            user_id=fire.user_id,
            payload=payload,
            dedupe_key=f"cron:{fire.schedule_id}:{fire.scheduled_at.isoformat()}",
        )
    )
