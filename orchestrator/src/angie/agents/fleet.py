"""Angie's fleet: the agents and teams seeded on first start, and which of them can run here.

Each installed MCP server brings its own agent (its manifest's description and prompt); the
agents that span servers, Angie's own and the teams are the fleet's. An agent names the MCP
servers whose tools it uses; one whose servers are not installed is listed as unavailable,
never hidden, so the user sees what installing a server would add.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import Agent, McpServer, McpTransport, Team, TeamMember
from angie.mcp.manifests import discover

__all__ = (
    "FEDERATED",
    "FLEET_AGENTS",
    "SEED_TEAMS",
    "AgentSeed",
    "Availability",
    "TeamSeed",
    "availability",
    "seed_agents",
    "seed_fleet",
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentSeed:
    name: str
    description: str
    servers: tuple[str, ...]
    tool_filter: tuple[str, ...] = ()
    #: The agent's template in Angie's prompt library.
    prompt: str = ""

    @property
    def prompt_path(self) -> str:
        return self.prompt or f"agents/{self.name}.md"


@dataclass(frozen=True, slots=True)
class TeamSeed:
    name: str
    description: str
    members: tuple[str, ...]


# The fleet's own agents: those that span servers or use Angie's own server, and the agents of
# servers whose packages are not installed here. An installed server's manifest seeds its agent
# (and wins over an entry below); the entries for this workspace's servers remain because an
# Angie that reaches them in other containers (the image installs no server package) still
# seeds and lists their agents. tests/test_conventions.py keeps them equal to the manifests.
FLEET_AGENTS: tuple[AgentSeed, ...] = (
    AgentSeed("hue", "Philips Hue lights: rooms, brightness, colour and scenes.", ("hue",)),
    AgentSeed(
        "home_assistant",
        "Home Assistant: the state of the home's devices, and calling their services.",
        ("home_assistant",),
    ),
    AgentSeed(
        "spotify", "Spotify: what is playing, playback, devices and playlists.", ("spotify",)
    ),
    AgentSeed("github", "GitHub: notifications, issues, pull requests and CI runs.", ("github",)),
    AgentSeed(
        "email",
        "Email management: triage, labels and archiving across Gmail, Outlook and Yahoo.",
        ("gmail", "outlook", "yahoo"),
    ),
    AgentSeed(
        "correspondence",
        "Email correspondence: drafting and replying to messages in the user's voice.",
        ("gmail", "outlook", "yahoo"),
    ),
    # The scorer holds no mail: the agent lists and moves through the mail servers.
    AgentSeed(
        "spam",
        "Spam clean-up: finds and removes junk mail safely.",
        ("spam", "gmail", "outlook", "yahoo"),
    ),
    AgentSeed("calendar", "Google Calendar: agenda, free time and events.", ("gcal",)),
    AgentSeed("network", "The UniFi network: clients, devices and their health.", ("unifi",)),
    AgentSeed("crons", "Angie's crons: scheduled jobs.", ("angie",), ("angie_cron_*",)),
    AgentSeed(
        "tasks", "Angie's tasks: what is running, queued or waiting.", ("angie",), ("angie_task_*",)
    ),
    AgentSeed(
        "workflows",
        "Angie's workflows: ordered steps across agents.",
        ("angie",),
        ("angie_workflow_*",),
    ),
    AgentSeed(
        "events",
        "Angie's events: what happened and what comes next.",
        ("angie",),
        ("angie_event_*",),
    ),
    # Long research: questions planned, sources read through a federated fetch server (their
    # words are outside content), notes kept in the conversation's scratch files.
    AgentSeed(
        "research",
        "Deep research: plans the questions, reads sources on the web, keeps notes and writes "
        "a report with citations.",
        ("fetch",),
    ),
)

# Servers the fleet's agents use that are not Angie's: the household federates them through
# its mcpServers file. Their rows say how they are usually reached, never that Angie ships them.
FEDERATED: dict[str, tuple[str, ...]] = {
    # The reference fetch server (modelcontextprotocol/servers): web pages as markdown.
    "fetch": ("uvx", "mcp-server-fetch"),
}

SEED_TEAMS: tuple[TeamSeed, ...] = (
    TeamSeed(
        "home",
        "The home: lights, devices and music together.",
        ("hue", "home_assistant", "spotify"),
    ),
    TeamSeed(
        "inbox",
        "Email from triage to reply, with spam cleared.",
        ("email", "correspondence", "spam"),
    ),
)


@dataclass(frozen=True, slots=True)
class Availability:
    available: bool
    missing: tuple[str, ...]

    @property
    def reason(self) -> str:
        if self.available:
            return ""
        return (
            "needs the "
            + ", ".join(self.missing)
            + " MCP server"
            + ("s" if len(self.missing) > 1 else "")
        )


def seed_agents() -> tuple[AgentSeed, ...]:
    """Every seeded agent: each installed server's own, then the fleet's other agents. A
    server the fleet already has an agent for (``calendar`` for gcal) keeps that agent's name,
    so one server never has two agents and a database seeded before it was installed keeps
    its agent."""
    named = {
        a.servers[0]: a.name for a in FLEET_AGENTS if len(a.servers) == 1 and not a.tool_filter
    }
    # A server the fleet's shared agents already work with (a mailbox: email, correspondence,
    # spam) or splits into filtered agents (Angie's own) gets no agent of its own beside them.
    shared = {s for a in FLEET_AGENTS if len(a.servers) > 1 for s in a.servers} - set(named)
    split = {a.servers[0] for a in FLEET_AGENTS if a.tool_filter}
    own: dict[str, AgentSeed] = {}
    for m in discover().values():
        if m.name in shared | split:
            continue
        name = named.get(m.name, m.name)
        own[name] = AgentSeed(name, m.description, (m.name,), prompt=m.prompt)
    return (*own.values(), *(a for a in FLEET_AGENTS if a.name not in own))


def availability(server_names: Iterable[str], installed: Iterable[str]) -> Availability:
    """Available when at least one of its servers runs here (an email agent needs one account)."""
    names = tuple(server_names)
    here = set(installed)
    missing = tuple(n for n in names if n not in here)
    return Availability(available=bool(names) and len(missing) < len(names), missing=missing)


def _agent_prompt(prompts_root: Path | None, seed: AgentSeed) -> str:
    if prompts_root is None:
        return ""
    path = prompts_root / seed.prompt_path
    return path.read_text(encoding="utf-8") if path.is_file() else ""


async def _server_rows(session: AsyncSession, names: Iterable[str]) -> dict[str, McpServer]:
    wanted = set(names)
    rows = {
        row.name: row
        for row in await session.scalars(select(McpServer).where(McpServer.name.in_(wanted)))
    }
    for name in sorted(wanted - set(rows)):
        federated = FEDERATED.get(name)
        rows[name] = McpServer(
            name=name,
            transport=McpTransport.STDIO,
            command=list(federated or ("python", "-m", f"angie_mcp_{name}")),
            builtin=federated is None,
        )
        session.add(rows[name])
    await session.flush()
    return rows


async def seed_fleet(session: AsyncSession, prompts_root: Path | None) -> list[str]:
    """Create the seeded agents and teams that do not exist yet; returns the names created.

    Existing ones are left as the user edited them; a deleted seed is not brought back only if
    the user renamed it, which is the user's choice to make.
    """
    created: list[str] = []
    existing = set(await session.scalars(select(Agent.name)))
    seeds = seed_agents()
    servers = await _server_rows(session, (s for a in seeds for s in a.servers))
    agents: dict[str, Agent] = {a.name: a for a in await session.scalars(select(Agent))}
    for seed in seeds:
        if seed.name in existing:
            continue
        agent = Agent(
            name=seed.name,
            description=seed.description,
            prompt=_agent_prompt(prompts_root, seed),
            tool_filter=list(seed.tool_filter),
            builtin=True,
            servers=[servers[s] for s in seed.servers],
        )
        session.add(agent)
        agents[seed.name] = agent
        created.append(seed.name)
    await session.flush()
    team_names = set(await session.scalars(select(Team.name)))
    for team_seed in SEED_TEAMS:
        if team_seed.name in team_names:
            continue
        team = Team(name=team_seed.name, description=team_seed.description)
        team.members = [
            TeamMember(agent_id=agents[m].id, position=i)
            for i, m in enumerate(team_seed.members)
            if m in agents
        ]
        session.add(team)
        created.append(f"team:{team_seed.name}")
    await session.flush()
    if created:
        log.info("seeded %d agents and teams", len(created))
    return created
