"""The health of the MCP servers Angie does not supervise (those of the mcpServers file), as her
calls find them: healthy once one answers, unhealthy with the cause once one crashed or stayed
silent. It is kept on the server's ``mcp_servers`` row, the stored health the status reads
where no supervisor reports a server live; the built-ins' health is their supervisor's."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import McpServer, ServerHealth
from angie.mcp.registry import ServerSpec
from angie.mcp.store import server_row

__all__ = ("HealthRecorder",)

log = logging.getLogger(__name__)


class HealthRecorder:
    """Writes what a call or a tool listing found of a third-party server; a built-in server's
    report is left to the supervisor that runs it."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def answered(self, spec: ServerSpec) -> None:
        """The server answered (a tool's own error is an answer too)."""
        await self._set(spec, ServerHealth.HEALTHY, None)

    async def failed(self, spec: ServerSpec, cause: str) -> None:
        """The server did not answer; ``cause`` is the sentence that names it and says why."""
        await self._set(spec, ServerHealth.UNHEALTHY, cause)

    async def _set(self, spec: ServerSpec, health: ServerHealth, error: str | None) -> None:
        if spec.builtin:
            return
        now = utcnow()
        try:
            async with self._database.session() as session:
                result = await session.execute(
                    update(McpServer)
                    .where(McpServer.name == spec.name)
                    .values(health=health, last_error=error, last_health_at=now)
                )
                if not result.rowcount:  # type: ignore[attr-defined]
                    # Not registered yet: its row is made now, as the API makes it on sight.
                    row = await server_row(session, spec)
                    row.health, row.last_error, row.last_health_at = health, error, now
        except SQLAlchemyError:
            # The report must never cost the person the call it is about.
            log.exception("could not record the health of MCP server %s", spec.name)
