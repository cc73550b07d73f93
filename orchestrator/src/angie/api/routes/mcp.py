"""``/api/mcp/servers``: the household's MCP servers, their health, their tools with the approval
decision each would get, and (admins) switching them on or off and setting their policy."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx2
from fastapi import APIRouter, Path
from mcp import MCPError
from pydantic import BaseModel, Field
from pydantic_ai.tools import ToolDefinition
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from angie.agents.policy import Decision, is_read_only, load_policy
from angie.api.deps import AdminUser, CurrentUser, ServicesDep, SessionDep
from angie.api.paging import query_page
from angie.api.schemas import Body, ListParams, Page, order_by
from angie.api.validation import matching, reject_nulls
from angie.db.models import ApprovalMode, ContentTrust, McpServer, McpTransport, ServerHealth
from angie.errors import Conflict, NotFound, Unavailable
from angie.mcp.store import set_enabled
from angie.mcp.supervisor import SupervisorError
from angie.services import Services

__all__ = (
    "Configured",
    "Health",
    "MissingSettings",
    "ServerOut",
    "ServerPatch",
    "ToolOut",
    "router",
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/mcp/servers", tags=["mcp"])

ServerName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$", max_length=64)]
ToolName = Annotated[
    str, matching(r"[A-Za-z0-9_.-]{1,128}", "must be a tool's name: letters, digits, _ . -")
]


# What a server's state says, the same here and in /api/status.
Health = Annotated[ServerHealth, Field(description="The server's process; see configured.")]
Configured = Annotated[
    bool | None,
    Field(
        description="Whether the running server has every setting its service needs; null "
        "when unknown (not running in this process, or a server that does not say)."
    ),
]
MissingSettings = Annotated[
    list[str],
    Field(description="The environment variables it still needs (names only, never values)."),
]


class ServerOut(BaseModel):
    name: str
    description: str
    transport: McpTransport
    builtin: bool
    enabled: bool = Field(description="The household's choice; a change applies at restart.")
    installed: bool = Field(
        description="This Angie can start it: a built-in whose package is installed here, or "
        "an entry of the mcpServers file. Others are seeded so their agents can be listed."
    )
    active: bool = Field(description="This Angie has the server now (installed and enabled).")
    scope: Literal["household", "personal"] | None = Field(
        description="household: one account for the home, in its settings; personal: each "
        "person connects their own (`angie mcp connect NAME`); None: the server says nothing."
    )
    typed_credentials: list[str] = Field(
        default_factory=list,
        description="What a person types to connect an account (Yahoo's address and app "
        "password, a GitHub token); empty when signing in opens the provider's page instead.",
    )
    health: Health
    configured: Configured
    missing_settings: MissingSettings
    last_error: str | None
    restarts: int | None = Field(description="Restarts by the supervisor, when it runs it.")
    idle: bool = Field(
        default=False,
        description="Stopped while nobody used it (ANGIE_MCP_IDLE_SECONDS); the next call "
        "starts it again.",
    )
    approval_mode: ApprovalMode
    tool_policies: dict[str, Decision]
    content_trust: ContentTrust = Field(
        description="untrusted: the server's outputs carry text others wrote (mail, issues, web "
        "pages); a run that reads one asks before every side effect from then on."
    )
    content_trust_set_by: Literal["admin", "server", "default"] = Field(
        description="Who decided: an admin, the server's own declaration, or the default "
        "(untrusted, for servers that declare nothing)."
    )
    created_at: datetime
    updated_at: datetime


class ServerPatch(Body):
    enabled: bool | None = Field(default=None, description="Applies when Angie restarts.")
    approval_mode: ApprovalMode | None = Field(
        default=None, description="auto follows each tool's annotations; the others apply to all."
    )
    tool_policies: Annotated[dict[ToolName, Decision], Field(max_length=500)] | None = Field(
        default=None, description="Per tool (the server's own name); replaces the whole map."
    )
    content_trust: ContentTrust | None = Field(
        default=None,
        description="trusted only when nobody outside the household can write what its tools "
        "return; overrides what the server declares.",
    )


class ToolOut(BaseModel):
    name: str = Field(description="The server's own name for the tool.")
    prefixed_name: str = Field(description="The name agents see and tool filters match.")
    title: str | None
    description: str
    read_only: bool
    destructive: bool
    annotations: dict[str, Any]
    input_schema: dict[str, Any]
    decision: Decision = Field(description="What a call does now: allow, ask or never.")
    untrusted_decision: Decision = Field(
        description="The same for runs a webhook or an inbound email started."
    )


def _out(row: McpServer, services: Services) -> ServerOut:
    states = {s.name: s for s in services.servers.states()}
    live = states.get(row.name)
    spec = services.toolbox.spec(row.name)
    declared = spec.content_trust if spec is not None else None
    trust = ContentTrust(row.content_trust or declared or ContentTrust.UNTRUSTED)
    set_by: Literal["admin", "server", "default"] = (
        "admin" if row.content_trust else "server" if declared else "default"
    )
    policies = {}
    for tool, value in (row.tool_policies or {}).items():
        # A stored value the policy does not know means "ask" (see angie.agents.policy).
        policies[tool] = Decision(value) if value in set(Decision) else Decision.ASK
    return ServerOut(
        name=row.name,
        description=row.description,
        transport=row.transport,
        builtin=row.builtin,
        enabled=row.enabled,
        installed=row.name in services.servers.specs,
        active=row.name in services.toolbox.installed(),
        scope=spec.manifest.scope if spec is not None and spec.manifest is not None else None,
        typed_credentials=list(spec.manifest.typed_credentials)
        if spec is not None and spec.manifest is not None
        else [],
        health=live.health if live else row.health,
        configured=live.configured if live else None,
        missing_settings=list(live.missing_settings) if live else [],
        last_error=live.last_error if live else row.last_error,
        restarts=live.restarts if live else None,
        idle=live.idle if live else False,
        approval_mode=row.approval_mode,
        tool_policies=policies,
        content_trust=trust,
        content_trust_set_by=set_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _register(session: AsyncSession, services: Services) -> None:
    """Give each server this Angie has a row (an mcpServers file adds servers the seeds do not
    know), so the household sees it and an admin can set its policy."""
    known = set(await session.scalars(select(McpServer.name)))
    for name in sorted(services.toolbox.installed() - known):
        spec = services.toolbox.spec(name)
        if spec is None:
            continue
        try:
            async with session.begin_nested():
                await set_enabled(session, spec, True)
        except IntegrityError:
            log.debug("server %s was registered by a concurrent request", name)


async def _server(session: AsyncSession, name: str) -> McpServer:
    row = (await session.scalars(select(McpServer).where(McpServer.name == name))).one_or_none()
    if row is None:
        raise NotFound(f"there is no MCP server {name!r}")
    return row


def _unavailable(message: str) -> Unavailable:
    return Unavailable(message)


@router.get("", operation_id="list_mcp_servers")
async def list_servers(
    _: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
    params: ListParams,
    enabled: bool | None = None,
) -> Page[ServerOut]:
    """The MCP servers of the household, with their health and approval policy."""
    await _register(session, services)
    stmt = select(McpServer)
    if enabled is not None:
        stmt = stmt.where(McpServer.enabled.is_(enabled))
    stmt = order_by(
        stmt,
        params.sort,
        {"name": McpServer.name, "created_at": McpServer.created_at},
        "name",
        McpServer.id,
    )
    return await query_page(session, stmt, params, lambda row: _out(row, services))


@router.get("/{name}", operation_id="get_mcp_server")
async def get_server(
    name: ServerName, _: CurrentUser, session: SessionDep, services: ServicesDep
) -> ServerOut:
    """One MCP server, with its live health when Angie runs it."""
    await _register(session, services)
    return _out(await _server(session, name), services)


@router.get(
    "/{name}/tools",
    operation_id="list_mcp_server_tools",
    responses={
        404: {"description": "No such server, or it is not installed here"},
        409: {"description": "The server is disabled, or was enabled after Angie started"},
        503: {"description": "The server is installed and enabled but down"},
    },
)
async def list_tools(
    name: ServerName, _: CurrentUser, session: SessionDep, services: ServicesDep
) -> list[ToolOut]:
    """The server's tools, whether each only reads, and what the approval policy does with it."""
    await _register(session, services)
    row = await _server(session, name)
    if not row.enabled:
        raise Conflict(f"the {name} server is disabled; an admin can enable it")
    if name not in services.servers.specs:
        # A seeded server whose package this Angie does not have: nothing is down.
        raise NotFound(f"the {name} server is not installed here")
    spec = services.toolbox.spec(name)
    if spec is None:
        raise Conflict(f"the {name} server was enabled after Angie started; restart her to use it")
    try:
        async with asyncio.timeout(services.toolbox.timeout_for(spec)):
            async with services.toolbox.client(spec) as client:
                tools = await client.list_tools()
    except SupervisorError as err:
        raise _unavailable(str(err)) from err
    except (OSError, TimeoutError, MCPError, httpx2.HTTPError, RuntimeError) as err:
        raise _unavailable(f"cannot reach the {name} server ({type(err).__name__})") from err
    policy = await load_policy(session)
    found = []
    for tool in sorted(tools, key=lambda t: t.name):
        hints = (
            tool.annotations.model_dump(by_alias=True, exclude_none=True)
            if tool.annotations
            else {}
        )
        tool_def = ToolDefinition(
            name=f"{name}_{tool.name}", metadata={"annotations": hints, "meta": tool.meta or {}}
        )
        found.append(
            ToolOut(
                name=tool.name,
                prefixed_name=tool_def.name,
                title=tool.title or (tool.annotations.title if tool.annotations else None),
                description=(tool.description or "").strip(),
                read_only=is_read_only(tool_def),
                destructive=hints.get("destructiveHint") is True,
                annotations=hints,
                input_schema=dict(tool.input_schema),
                decision=policy.decide(name, tool.name, tool_def, untrusted=False),
                untrusted_decision=policy.decide(name, tool.name, tool_def, untrusted=True),
            )
        )
    return found


@router.patch("/{name}", operation_id="update_mcp_server", responses={403: {}})
async def update_server(
    name: ServerName, body: ServerPatch, _: AdminUser, session: SessionDep, services: ServicesDep
) -> ServerOut:
    """Set a server's approval policy or content trust, or switch it on or off from Angie's next
    start (admins)."""
    await _register(session, services)
    row = await _server(session, name)
    reject_nulls(body.model_dump(exclude_unset=True))
    if body.enabled is not None:
        row.enabled = body.enabled
    if body.approval_mode is not None:
        row.approval_mode = body.approval_mode
    if body.tool_policies is not None:
        row.tool_policies = {tool: d.value for tool, d in sorted(body.tool_policies.items())}
    if body.content_trust is not None:
        row.content_trust = body.content_trust
    await session.flush()
    return _out(row, services)
