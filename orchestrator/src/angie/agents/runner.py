"""Building the pydantic-ai agents a task runs: an agent over its servers' tools, a team over
its members' tools combined, and Angie herself, who answers and delegates (one tool per agent
and team) but holds no integration tools."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from pydantic_ai import Agent, DeferredToolRequests, RunContext, Tool
from pydantic_ai.models import Model
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset
from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from angie.access import visible_to
from angie.agents.fleet import availability
from angie.agents.journal import EffectJournal
from angie.agents.limits import RunLimits
from angie.agents.policy import ApprovalPolicy, load_policy
from angie.agents.rules import load_rules
from angie.agents.scratch_tools import SCRATCH_SERVER, scratch_toolset
from angie.agents.toolbox import Toolbox
from angie.agents.trust import RunTrust
from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import (
    DELEGATIONS,
    AgentServer,
    ChannelKind,
    McpServer,
    PromptKind,
    Task,
    Team,
    TeamMember,
    User,
)
from angie.db.models import Agent as AgentRow
from angie.feedback import conversation_for
from angie.prompts import (
    ConversationPrompts,
    PromptAgent,
    PromptComposer,
    PromptContext,
    PromptUser,
    PromptVersion,
)
from angie.storage.scratch import ScratchFiles

__all__ = ("AgentFactory", "Answer", "Built", "Delegate", "Roster", "RosterEntry", "TaskDeps")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a delegated request came to: the child task's answer as the parent's model reads
    it, whether it succeeded, and the child task."""

    text: str
    succeeded: bool
    task_id: int


# What a delegation tool calls: (parent task, tool call id, kind, id, request) → the answer;
# a "plan" is an approved plan's id and its goal, run as a task of its own.
Delegate = Callable[[Task, str, Literal["agent", "team", "plan"], int, str], Awaitable[Answer]]
ModelFor = Callable[[str | None], Model]


@dataclass(frozen=True, slots=True)
class Built:
    """An agent (or a team's) built for one task's run, and the limits that run has."""

    agent: Agent[TaskDeps, Any]
    limits: RunLimits


@dataclass(frozen=True, slots=True)
class _RunReads:
    """What every agent's or team's run reads besides its own row, in the same session."""

    policy: ApprovalPolicy
    user: User | None
    household: Mapping[PromptKind, PromptVersion] | None


@dataclass
class TaskDeps:
    task: Task
    delegate: Delegate | None = None


@dataclass(frozen=True, slots=True)
class RosterEntry:
    kind: Literal["agent", "team"]
    id: int
    name: str
    description: str
    available: bool
    reason: str = ""

    @property
    def tool_name(self) -> str:
        return f"ask_{self.name}" if self.kind == "agent" else f"ask_team_{self.name}"


@dataclass
class Roster:
    entries: list[RosterEntry] = field(default_factory=list)

    @property
    def available(self) -> list[RosterEntry]:
        return [e for e in self.entries if e.available]


class AgentFactory:
    def __init__(
        self,
        database: Database,
        toolbox: Toolbox,
        prompts: PromptComposer,
        model_for: ModelFor,
        *,
        clock: Callable[[], datetime] = utcnow,
        limits: RunLimits | None = None,
        scratch: ScratchFiles | None = None,
    ) -> None:
        self.db = database
        # The conversations' scratch files, offered to every run that has a conversation.
        self.scratch = scratch
        self.toolbox = toolbox
        self.prompts = prompts
        self.model_for = model_for
        # How far each run of the agents built here may go (run_agent applies them).
        self.limits = limits or RunLimits()
        self._clock = clock

    async def roster(self, user_id: int | None = None) -> Roster:
        """The enabled agents and teams a person may use (the household's and their own), each
        marked available or not on this machine; read in one statement, every turn, so an
        agent or team changed by any process is seen by the next turn of every other."""
        installed = self.toolbox.installed()
        found: dict[tuple[str, int], tuple[str, str, list[str]]] = {}
        async with self.db.session() as session:
            for kind, row_id, name, description, server in await session.execute(
                _roster_rows(user_id)
            ):
                entry = found.setdefault((kind, row_id), (name, description, []))
                if server is not None:
                    entry[2].append(server)
        entries = []
        for (kind, row_id), (name, description, servers) in found.items():
            state = availability(servers, installed)
            entries.append(
                RosterEntry(
                    cast(Literal["agent", "team"], kind),
                    row_id,
                    name,
                    description,
                    state.available,
                    state.reason,
                )
            )
        return Roster(entries)

    async def context(self, task: Task, agent: PromptAgent | None = None) -> PromptContext:
        async with self.db.session() as session:
            user = await session.get(User, task.user_id) if task.user_id else None
        return self._context(task, user, agent)

    def _context(self, task: Task, user: User | None, agent: PromptAgent | None) -> PromptContext:
        channel = task.channel.value if task.channel else "web"
        if user is None:
            person = PromptUser(name="the household", address_as="everyone")
            return PromptContext(person, self._clock(), "UTC", channel, agent)
        return PromptContext.for_user(user, now=self._clock(), channel=channel, agent=agent)

    async def scratch_tools(self, task: Task) -> list[AbstractToolset[Any]]:
        """The scratch-file tools over the conversation ``task`` belongs to (its person's
        channel and thread, as its messages are kept), audited; none for a household task."""
        if self.scratch is None or task.user_id is None:
            return []
        user_id = task.user_id

        async def conversation() -> int:
            async with self.db.session() as session:
                found = await conversation_for(
                    session, user_id, task.channel or ChannelKind.WEB, task.thread or ""
                )
                return found.id

        tools = scratch_toolset(self.scratch, conversation)
        return [self.toolbox.audited(tools, server=SCRATCH_SERVER, task_id=task.id)]

    async def _run_reads(self, session: AsyncSession, task: Task) -> _RunReads:
        """The household's approval policy with the rules of the person ``task`` works for,
        that person, and the household's prompt overrides."""
        policy = await load_policy(session)
        user = None
        if task.user_id is not None:
            policy = policy.for_person(await load_rules(session, task.user_id))
            user = await session.get(User, task.user_id)
        return _RunReads(policy, user, await self.prompts.household_in(session))

    async def for_agent(self, task: Task, agent_id: int, *, untrusted: bool) -> Built:
        """The agent's run for ``task`` and the limits it runs under (its own where it set
        them); the agent, its servers, the approval policy, the person and the household's
        prompts read together."""
        async with self.db.session() as session:
            row = await session.get(AgentRow, agent_id)
            if row is None:
                raise LookupError(f"agent {agent_id} no longer exists")
            servers = [s.name for s in row.servers]
            reads = await self._run_reads(session, task)
        toolsets = self.toolbox.toolsets(
            servers,
            row.tool_filter,
            policy=reads.policy,
            task_id=task.id,
            untrusted=untrusted,
            journal=EffectJournal(self.db, task.id),
            trust=RunTrust(task, self.db),
            accounts=await self.toolbox.accounts_for(task.user_id, servers),
        )
        tools = await self.toolbox.capabilities(servers, row.tool_filter)
        ctx = self._context(task, reads.user, PromptAgent(row.name, row.description, tools))
        toolsets.extend(await self.scratch_tools(task))
        instructions = await self.prompts.compose_agent(ctx, row.prompt, reads.household)
        agent = self._agent(row.model, instructions, toolsets)
        return Built(agent, self.limits.overridden(row.limits))

    async def for_team(self, task: Task, team_id: int, *, untrusted: bool) -> Built:
        """A team's run for ``task``: its members' servers and prompts as one agent; read in
        one session like :meth:`for_agent`."""
        async with self.db.session() as session:
            team = await session.get(Team, team_id)
            if team is None:
                raise LookupError(f"team {team_id} no longer exists")
            members = [m.agent for m in team.members if m.agent.enabled]
            servers = [s.name for a in members for s in a.servers]
            member_filters = [p for a in members for p in a.tool_filter if p.startswith("!")]
            prompt = "\n\n".join(
                [team.prompt, *(f"## {a.name}\n{a.prompt}" for a in members if a.prompt)]
            )
            description = team.description
            team_filter = list(team.tool_filter)
            reads = await self._run_reads(session, task)
        journal = EffectJournal(self.db, task.id)
        toolsets = self.toolbox.toolsets(
            servers,
            team.tool_filter,
            policy=reads.policy,
            task_id=task.id,
            untrusted=untrusted,
            journal=journal,
            extra_filter=member_filters,
            trust=RunTrust(task, self.db),
            accounts=await self.toolbox.accounts_for(task.user_id, servers),
        )
        tools = await self.toolbox.capabilities(servers, [*team_filter, *member_filters])
        ctx = self._context(task, reads.user, PromptAgent(team.name, description, tools))
        model = members[0].model if members else None
        toolsets.extend(await self.scratch_tools(task))
        instructions = await self.prompts.compose_agent(ctx, prompt, reads.household)
        agent = self._agent(model, instructions, toolsets)
        return Built(agent, self.limits)

    async def for_angie(
        self,
        task: Task,
        roster: Roster,
        prompts: ConversationPrompts,
        extra: Sequence[Tool[TaskDeps]] = (),
    ) -> Agent[TaskDeps, Any]:
        """Angie over the roster: an ``ask_`` tool per available agent and team, and the
        ``extra`` tools of hers (planning), all audited as her own calls."""
        asks = FunctionToolset[TaskDeps]([*(_delegation_tool(e) for e in roster.available), *extra])
        # Handing work on is one of her tool calls: audited and shown live like any other.
        tools = self.toolbox.audited(asks, server=DELEGATIONS, task_id=task.id)
        ctx = await self.context(task)
        instructions = await self.prompts.compose_conversation(
            ctx, prompts.documents, prompts.household
        )
        unavailable = [e for e in roster.entries if not e.available]
        if unavailable:
            instructions += "\n\nNot available on this machine: " + "; ".join(
                f"{e.name} ({e.reason})" for e in unavailable
            )
        return self._agent(None, instructions, [tools, *await self.scratch_tools(task)])

    def _agent(
        self, model: str | None, instructions: str, toolsets: Sequence[AbstractToolset[Any]]
    ) -> Agent[TaskDeps, Any]:
        return Agent(
            self.model_for(model),
            output_type=[str, DeferredToolRequests],
            instructions=instructions,
            deps_type=TaskDeps,
            toolsets=list(toolsets),
            retries=2,
        )


# Building a tool derives its schema (about 0.4 ms each): one per roster entry is built once and
# shared by every run; the run's own task and delegation come through ``ctx.deps``.
@functools.lru_cache(maxsize=512)
def _delegation_tool(entry: RosterEntry) -> Tool[TaskDeps]:
    async def delegate(ctx: RunContext[TaskDeps], request: str) -> str:
        if ctx.deps.delegate is None:
            return "Delegation is not possible in this run."
        answer = await ctx.deps.delegate(
            ctx.deps.task, ctx.tool_call_id or "", entry.kind, entry.id, request
        )
        return answer.text

    who = f"the {entry.name} agent" if entry.kind == "agent" else f"the {entry.name} team"
    return Tool(
        delegate,
        name=entry.tool_name,
        description=(
            f"Ask {who} to do something: {entry.description} "
            "`request` is a complete instruction in plain words, with every detail it needs "
            "(it does not see this conversation). Returns its answer."
        ),
        takes_ctx=True,
    )


def _roster_rows(user_id: int | None) -> Select[str, int, str, str, str | None]:
    """(kind, id, name, description, server) of every enabled agent and team ``user_id`` may
    use: an agent's own servers, a team's those of all its members in their order (a member
    disabled on its own still counts, as it always has); by kind, then name."""
    agents = (
        select(
            literal("agent").label("kind"),
            AgentRow.id,
            AgentRow.name,
            AgentRow.description,
            literal(0).label("position"),
            McpServer.id.label("server_id"),
            McpServer.name.label("server"),
        )
        .outerjoin(AgentServer, AgentServer.agent_id == AgentRow.id)
        .outerjoin(McpServer, McpServer.id == AgentServer.server_id)
        .where(AgentRow.enabled.is_(True), visible_to(AgentRow, user_id))
    )
    teams = (
        select(
            literal("team").label("kind"),
            Team.id,
            Team.name,
            Team.description,
            TeamMember.position,
            McpServer.id.label("server_id"),
            McpServer.name.label("server"),
        )
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .outerjoin(AgentServer, AgentServer.agent_id == TeamMember.agent_id)
        .outerjoin(McpServer, McpServer.id == AgentServer.server_id)
        .where(Team.enabled.is_(True), visible_to(Team, user_id))
    )
    both = union_all(agents, teams).subquery()
    kind, name, description, server = both.c.kind, both.c.name, both.c.description, both.c.server
    rows = select(kind, both.c.id, name, description, server)
    return rows.order_by(kind, name, both.c.id, both.c.position, both.c.server_id)
