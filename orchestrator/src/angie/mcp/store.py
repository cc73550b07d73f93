"""The household's choices about MCP servers, kept in the ``mcp_servers`` table: on or off, and
whether their outputs can be trusted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from angie.db.models import ContentTrust, McpServer, McpTransport

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.mcp.registry import ServerSpec

__all__ = ("content_trust_choices", "server_row", "set_enabled")


async def enabled_choices(session: AsyncSession) -> dict[str, bool]:
    rows = await session.execute(select(McpServer.name, McpServer.enabled))
    return {row.name: row.enabled for row in rows}


async def content_trust_choices(session: AsyncSession) -> dict[str, ContentTrust]:
    """The content trust an admin chose, by server (servers without a choice are left out)."""
    rows = await session.execute(
        select(McpServer.name, McpServer.content_trust).where(McpServer.content_trust.is_not(None))
    )
    return {name: ContentTrust(trust) for name, trust in rows if trust is not None}


async def set_enabled(session: AsyncSession, spec: ServerSpec, enabled: bool) -> None:
    """Record the choice, creating the server's row the first time."""
    row = await server_row(session, spec)
    row.enabled = enabled
    await session.flush()


async def server_row(session: AsyncSession, spec: ServerSpec) -> McpServer:
    """The server's row, made (not yet flushed) the first time."""
    row = (
        await session.scalars(select(McpServer).where(McpServer.name == spec.name))
    ).one_or_none()
    if row is None:
        row = McpServer(
            name=spec.name,
            transport=McpTransport(spec.transport),
            # Only how it is reached, never its env values or headers (they may hold secrets).
            command=list(spec.command) if spec.transport == "stdio" else None,
            url=spec.url,
            env_keys=sorted(spec.env),
            builtin=spec.builtin,
        )
        session.add(row)
    return row
