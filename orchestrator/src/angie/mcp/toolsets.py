"""pydantic-ai toolsets over MCP servers: one per server, prefixed with its name, guarded.

A guarded toolset answers within its timeout whatever the server does: a hung server becomes a
``ModelRetry`` the model can read and explain, and the other servers are untouched. A server
that goes away during a call (it crashed, or Angie is stopping) is no answer the model may
settle the task on: :class:`ServerGone` ends the run, and the task runs again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx2
from fastmcp.client.transports import StdioTransport
from mcp import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import ServerGone, Supervisor, SupervisorError, child_environ

__all__ = ("GuardedToolset", "ServerToolset", "stdio_transport")

log = logging.getLogger(__name__)

# What a server that crashed, hung up or never started looks like from the client side.
_UNAVAILABLE = (OSError, EOFError, RuntimeError, httpx2.TransportError, MCPError, SupervisorError)


# Whether the server a call went to is gone, and why; None while it still runs.
GoneCheck = Callable[[], Awaitable[str | None]]


def stdio_transport(
    spec: ServerSpec, environ: Mapping[str, str], *, log_file: Path | None = None
) -> StdioTransport:
    """How Angie starts a stdio server, from every path (agents, ``/tool``, ``angie mcp``): the
    environment :func:`child_environ` decides, a process group of its own (the MCP SDK's), and
    no process kept alive after its client closes."""
    return StdioTransport(
        command=spec.command[0],
        args=list(spec.command[1:]),
        env=child_environ(spec, environ),
        keep_alive=False,
        log_file=log_file,
    )


async def _still_there() -> None:
    return None


@dataclass
class GuardedToolset(WrapperToolset[Any]):
    server: str = ""
    timeout: float = 30.0
    gone: GoneCheck = _still_there
    _connected: bool = field(default=False, init=False, repr=False)

    async def __aenter__(self) -> Self:
        try:
            async with asyncio.timeout(self.timeout):
                await self.wrapped.__aenter__()
            self._connected = True
        except (TimeoutError, *_UNAVAILABLE) as err:
            log.warning("cannot connect to MCP server %s: %r", self.server, err)
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        if not self._connected:
            return None
        self._connected = False
        try:
            return await self.wrapped.__aexit__(*args)
        except _UNAVAILABLE as err:
            # The server died mid-run: closing its session fails too, and that is no news.
            log.info("MCP server %s went away during the run: %r", self.server, err)
            return None

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.wrapped.get_tools(ctx)
        except (TimeoutError, *_UNAVAILABLE) as err:
            # One server down must not take the whole agent down: it just has no tools now.
            log.warning("MCP server %s offers no tools right now: %r", self.server, err)
            return {}

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except TimeoutError as err:
            raise ModelRetry(
                f"The {self.server} server did not answer within {self.timeout:g} seconds. "
                "Tell the user it is not responding rather than retrying now."
            ) from err
        except ModelRetry as err:
            # pydantic-ai turns a dropped connection into a retry reading "Connection closed",
            # and a server killed mid-answer into "Server returned an error response": neither
            # is the tool's answer. Tool errors of a server still running pass through.
            cause = err.__cause__
            dropped = isinstance(cause, MCPError) and cause.code == CONNECTION_CLOSED
            why = await self.gone()
            if why is not None or dropped:
                raise self._gone(why or "closed the connection") from err
            raise
        except _UNAVAILABLE as err:
            why = await self.gone()
            if why is None and isinstance(err, MCPError) and err.code != CONNECTION_CLOSED:
                raise self._refused(err) from err  # the server runs and said no
            raise self._gone(why or f"could not be reached ({type(err).__name__})") from err

    def _refused(self, err: MCPError) -> ModelRetry:
        if err.code == REQUEST_TIMEOUT:
            return ModelRetry(
                f"The {self.server} server did not answer within {self.timeout:g} seconds. "
                "Tell the user it is not responding rather than retrying now."
            )
        return ModelRetry(f"The {self.server} server answered with an error: {err.message}")

    def _gone(self, why: str) -> ServerGone:
        return ServerGone(f"the {self.server} server {why} during a call")


class ServerToolset(AbstractToolset[Any]):
    """The tools of one server, resolved at the start of each agent run.

    Built-in servers are reached where the supervisor runs them now: after a restart the next
    run gets a new client (new port, new token, a fresh tool list).
    """

    def __init__(
        self,
        spec: ServerSpec,
        supervisor: Supervisor | None = None,
        *,
        timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self._supervisor = supervisor
        self._timeout = timeout
        self._environ = dict(environ or {})
        self._current: tuple[int, AbstractToolset[Any]] | None = None

    @property
    def id(self) -> str:
        return self.spec.name

    def _client_toolset(self) -> tuple[int, MCPToolset[Any]]:
        spec = self.spec
        options: dict[str, Any] = {
            "id": spec.name,
            "read_timeout": self._timeout,
            "init_timeout": min(self._timeout, 10.0),
            "tool_error_behavior": "retry",
        }
        if spec.builtin:
            if self._supervisor is None:
                raise SupervisorError(f"the {spec.name} server needs the supervisor")
            endpoint = self._supervisor.endpoint(spec.name)
            return endpoint.generation, MCPToolset(endpoint.url, auth=endpoint.token, **options)
        if spec.transport == "stdio":
            return 0, MCPToolset(stdio_transport(spec, self._environ), **options)
        return 0, MCPToolset(str(spec.url), headers=dict(spec.headers), **options)

    def current(self) -> AbstractToolset[Any]:
        """The guarded, prefixed toolset for the server as it runs now."""
        generation = self._supervisor_generation()
        if self._current is None or self._current[0] != generation:
            generation, client = self._client_toolset()
            guarded = GuardedToolset(
                client, server=self.spec.name, timeout=self._timeout, gone=self._gone(generation)
            )
            self._current = (generation, guarded.prefixed(self.spec.name))
        return self._current[1]

    def _gone(self, generation: int) -> GoneCheck:
        supervisor, name = self._supervisor, self.spec.name

        async def gone() -> str | None:
            if not self.spec.builtin or supervisor is None:
                return None
            return await supervisor.went_away(name, generation)

        return gone

    def _supervisor_generation(self) -> int:
        if not self.spec.builtin or self._supervisor is None:
            return 0
        return self._supervisor.endpoint(self.spec.name).generation

    async def for_run(self, ctx: RunContext[Any]) -> AbstractToolset[Any]:
        """The toolset now; a built-in server being restarted is waited for up to the timeout,
        and one that cannot be had raises :class:`SupervisorError` so the task is retried later
        rather than run without the server's tools."""
        if self.spec.builtin and self._supervisor is not None:
            await self._supervisor.ready(self.spec.name, within=self._timeout)
        return self.current()

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        return await (await self.for_run(ctx)).get_tools(ctx)

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        return await (await self.for_run(ctx)).call_tool(name, tool_args, ctx, tool)
