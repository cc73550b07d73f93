"""The tools an agent gets: each of its servers' MCP tools, filtered, under the approval policy,
journaled against repeats, guarded against loops, fenced and tainting when the server's content
is untrusted, and audited — wrapped in that order around the server's toolset."""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx2
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from mcp import MCPError as McpError
from pydantic_ai import RunContext
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset

from angie.agents.audit import AuditToolset, DatabaseRecorder
from angie.agents.journal import EffectJournal, JournalToolset
from angie.agents.loops import LoopBreakerToolset
from angie.agents.policy import ApprovalPolicy, PolicyToolset
from angie.agents.schema import SchemaToolset
from angie.agents.streaming import TaskWatcher
from angie.agents.trust import RunTrust, TrustToolset
from angie.db.engine import Database
from angie.live import LiveBus
from angie.mcp.account_tools import AccountNamedToolset
from angie.mcp.accounts import AccountInstances, AccountTools, RunAccounts, run_accounts
from angie.mcp.health import HealthRecorder
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import Supervisor, SupervisorError
from angie.mcp.toolsets import ServerToolset, stdio_transport, unreachable_cause
from angie.prompts import Tool as PromptTool

__all__ = ("Toolbox", "tool_allowed")

log = logging.getLogger(__name__)


def tool_allowed(name: str, patterns: Sequence[str]) -> bool:
    """Globs over prefixed tool names; ``!glob`` excludes; no inclusion glob means all."""
    include = [p for p in patterns if not p.startswith("!")]
    exclude = [p[1:] for p in patterns if p.startswith("!")]
    if include and not any(fnmatch.fnmatchcase(name, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(name, p) for p in exclude)


class Toolbox:
    def __init__(
        self,
        database: Database,
        *,
        servers: Callable[[], Mapping[str, ServerSpec]],
        supervisor: Supervisor | None,
        timeout: float,
        live: LiveBus | None = None,
        max_repeated_calls: int = 3,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.db = database
        # What the servers' environments are made from (see child_environ), .env included.
        self.environ: dict[str, str] = dict(environ or {})
        self._max_repeated = max_repeated_calls
        self._servers = servers
        self._supervisor = supervisor
        self._timeout = timeout
        self._live = live
        # What calls find of the servers no supervisor watches (those of the mcpServers file).
        self.health = HealthRecorder(database)
        self._described: dict[str, tuple[int, list[PromptTool]]] = {}
        # One ServerToolset (one shared MCP session) per server.
        self._sessions: dict[str, ServerToolset] = {}
        self._retiring: set[asyncio.Task[Any]] = set()
        # Personal servers' instances, one per person's account.
        self.accounts = AccountInstances(environ=self.environ, timeout=timeout, health=self.health)

    def installed(self) -> set[str]:
        """Servers this Angie can reach now (installed and enabled)."""
        return {name for name, spec in self._servers().items() if spec.enabled}

    def spec(self, name: str) -> ServerSpec | None:
        spec = self._servers().get(name)
        return spec if spec is not None and spec.enabled else None

    def attach(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor

    @property
    def supervisor(self) -> Supervisor | None:
        return self._supervisor

    @property
    def timeout(self) -> float:
        return self._timeout

    def timeout_for(self, spec: ServerSpec) -> float:
        """Seconds a call to ``spec`` may take: its own (``"timeout"`` in the mcpServers file)
        or ANGIE_MCP_TIMEOUT."""
        return spec.timeout if spec.timeout is not None else self._timeout

    async def connect(self, spec: ServerSpec) -> Client[Any]:
        """:meth:`client`, once a built-in server being restarted is back (up to the timeout);
        :class:`SupervisorError` says which server and why when it cannot be had."""
        if spec.builtin and self._supervisor is not None and spec.name in self._supervisor.names:
            await self._supervisor.ready(spec.name, within=self._timeout)
        return self.client(spec)

    def client(self, spec: ServerSpec) -> Client[Any]:
        """A direct MCP client for one server, wherever it runs."""
        if spec.builtin:
            if self._supervisor is None:
                raise SupervisorError(f"the {spec.name} server is not running here")
            endpoint = self._supervisor.endpoint(spec.name)
            return Client(endpoint.url, auth=endpoint.token, timeout=self._timeout)
        timeout = self.timeout_for(spec)
        if spec.transport == "http":
            transport = StreamableHttpTransport(str(spec.url), headers=dict(spec.headers))
            return Client(transport, timeout=timeout)
        return Client(stdio_transport(spec, self.environ), timeout=timeout)

    async def capabilities(
        self, servers: Iterable[str], tool_filter: Sequence[str]
    ) -> list[PromptTool]:
        """The tools an agent can use, for its prompt; a server that is down adds none."""
        found: list[PromptTool] = []
        for name in dict.fromkeys(servers):
            spec = self.spec(name)
            if spec is None:
                continue
            generation = 0
            if spec.builtin and self._supervisor is not None and name in self._supervisor.names:
                # A server being restarted is waited for; one that cannot be had fails the
                # run with its reason (the worker retries it later).
                generation = (await self._supervisor.ready(name, within=self._timeout)).generation
            cached = self._described.get(name)
            if cached is None or cached[0] != generation:
                try:
                    async with self.client(spec) as client:
                        tools = await client.list_tools()
                except (OSError, TimeoutError, SupervisorError, McpError, httpx2.HTTPError) as err:
                    log.info("cannot list the tools of %s for a prompt: %r", name, err)
                    why = f"the {name} server could not be reached ({unreachable_cause(err)})"
                    await self.health.failed(spec, why)
                    continue
                await self.health.answered(spec)
                described = [
                    PromptTool(f"{name}_{t.name}", (t.description or "").strip()) for t in tools
                ]
                cached = self._described[name] = (generation, described)
            found.extend(t for t in cached[1] if tool_allowed(t.name, tool_filter))
        return found

    def server(self, name: str) -> ServerToolset | None:
        """One server's prefixed, guarded tools over the session every run shares; a server
        whose settings changed (a reload) gets a new one and the old session is closed."""
        spec = self.spec(name)
        if spec is None:
            return None
        known = self._sessions.get(name)
        if known is not None and known.spec == spec and known.supervisor is self._supervisor:
            return known
        made = self._sessions[name] = ServerToolset(
            spec,
            self._supervisor,
            timeout=self.timeout_for(spec),
            environ=self.environ,
            health=self.health,
        )
        if known is not None:
            self._retire(known)
        return made

    def _retire(self, old: ServerToolset) -> None:
        try:
            closing = asyncio.get_running_loop().create_task(old.aclose())
        except RuntimeError:
            return
        self._retiring.add(closing)
        closing.add_done_callback(self._retiring.discard)

    async def aclose(self) -> None:
        """Close every shared MCP session (Angie is stopping)."""
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(
            *(s.aclose() for s in sessions), *self._retiring, return_exceptions=True
        )
        await self.accounts.aclose()

    async def accounts_for(self, user_id: int | None, servers: Iterable[str]) -> RunAccounts:
        """The account instances a run of ``user_id`` may use among ``servers``."""
        specs = {name: spec for name, spec in self._servers().items() if spec.enabled}
        async with self.db.session() as session:
            return await run_accounts(session, self.accounts, specs, user_id, servers)

    def toolsets(
        self,
        servers: Iterable[str],
        tool_filter: Sequence[str],
        *,
        policy: ApprovalPolicy,
        task_id: int,
        untrusted: bool,
        journal: EffectJournal | None,
        extra_filter: Sequence[str] = (),
        trust: RunTrust | None = None,
        accounts: RunAccounts | None = None,
    ) -> list[AbstractToolset[Any]]:
        """Each server's tools wrapped for one run; ``accounts`` (from :meth:`accounts_for`)
        replaces a personal server's household instance by the person's own accounts'."""
        wrap = functools.partial(
            self._wrapped,
            patterns=(*tool_filter, *extra_filter),
            policy=policy,
            task_id=task_id,
            untrusted=untrusted,
            journal=journal,
            trust=trust,
        )
        result: list[AbstractToolset[Any]] = []
        reached = accounts.servers if accounts is not None else {}
        for name in dict.fromkeys(servers):
            if name in reached:
                # A personal server with accounts: only this person's own and shared instances.
                for one in reached[name]:
                    result.append(wrap(one.tools, name, account=one))
                continue
            base = self.server(name)
            if base is None:
                continue
            result.append(wrap(base, name))
        return result

    def _wrapped(
        self,
        base: ServerToolset,
        name: str,
        *,
        patterns: tuple[str, ...],
        policy: ApprovalPolicy,
        task_id: int,
        untrusted: bool,
        journal: EffectJournal | None,
        trust: RunTrust | None,
        account: AccountTools | None = None,
    ) -> AbstractToolset[Any]:
        """The run's wrappers around one instance. An account named in its tool names is named
        just outside the policy, which keys on the server's own names (``send``), so the journal,
        the loop breaker and the audit trail tell one account's call from another's."""

        def keep(_ctx: RunContext[Any], tool_def: ToolDefinition) -> bool:
            return tool_allowed(tool_def.name, patterns)

        guarded = PolicyToolset(
            SchemaToolset(base.filtered(keep)),
            server=name,
            policy=policy,
            untrusted=untrusted,
            trust=trust,
        )
        named: AbstractToolset[Any] = guarded
        if account is not None and account.name is not None:
            named = AccountNamedToolset(
                guarded, server=name, account=account.name, account_label=account.account.label
            )
        journaled = JournalToolset(named, journal=journal)
        outer: AbstractToolset[Any] = LoopBreakerToolset(
            journaled, server=name, most=self._max_repeated
        )
        if not policy.trusts_content(name, base.spec.content_trust):
            outer = TrustToolset(outer, server=name, trust=trust)
        return self.audited(outer, server=name, task_id=task_id)

    def audited(
        self, toolset: AbstractToolset[Any], *, server: str, task_id: int
    ) -> AbstractToolset[Any]:
        """``toolset`` with each call recorded in the task's audit trail and told to whoever
        watches the task live, as ``server``'s."""
        watcher = TaskWatcher(self._live, task_id) if self._live is not None else None
        return AuditToolset(
            toolset, server=server, recorder=DatabaseRecorder(self.db, task_id), watcher=watcher
        )
