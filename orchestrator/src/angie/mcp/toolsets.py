"""pydantic-ai toolsets over MCP servers: one per server, prefixed with its name, guarded.

A guarded toolset answers within its timeout whatever the server does: a hung or dead server
becomes a ``ModelRetry`` the model can read and explain, and the other servers are untouched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Self

import httpx2
from fastmcp.client.transports import StdioTransport
from mcp import MCPError
from mcp.types import CONNECTION_CLOSED
from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import Supervisor, SupervisorError

__all__ = ("GuardedToolset", "ServerToolset")

log = logging.getLogger(__name__)

# What a server that crashed, hung up or never started looks like from the client side.
_UNAVAILABLE = (OSError, EOFError, httpx2.TransportError, MCPError, SupervisorError)


@dataclass
class GuardedToolset(WrapperToolset[Any]):
    server: str = ""
    timeout: float = 30.0
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
            # pydantic-ai turns a dropped connection into a retry reading "Connection closed";
            # say which server went away instead. Tool errors pass through unchanged.
            cause = err.__cause__
            if isinstance(cause, MCPError) and cause.code == CONNECTION_CLOSED:
                raise self._unavailable(cause) from err
            raise
        except _UNAVAILABLE as err:
            raise self._unavailable(err) from err

    def _unavailable(self, err: BaseException) -> ModelRetry:
        return ModelRetry(
            f"The {self.server} server is unavailable ({type(err).__name__}). "
            "Tell the user it cannot be reached rather than retrying now."
        )


class ServerToolset(AbstractToolset[Any]):
    """The tools of one server, resolved at the start of each agent run.

    Built-in servers are reached where the supervisor runs them now: after a restart the next
    run gets a new client (new port, new token, a fresh tool list).
    """

    def __init__(
        self, spec: ServerSpec, supervisor: Supervisor | None = None, *, timeout: float = 30.0
    ) -> None:
        self.spec = spec
        self._supervisor = supervisor
        self._timeout = timeout
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
            transport = StdioTransport(
                command=spec.command[0], args=list(spec.command[1:]), env=dict(spec.env)
            )
            return 0, MCPToolset(transport, **options)
        return 0, MCPToolset(str(spec.url), headers=dict(spec.headers), **options)

    def current(self) -> AbstractToolset[Any]:
        """The guarded, prefixed toolset for the server as it runs now."""
        generation = self._supervisor_generation()
        if self._current is None or self._current[0] != generation:
            generation, client = self._client_toolset()
            guarded = GuardedToolset(client, server=self.spec.name, timeout=self._timeout)
            self._current = (generation, guarded.prefixed(self.spec.name))
        return self._current[1]

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
