"""pydantic-ai toolsets over MCP servers: one per server, prefixed with its name, guarded.

A guarded toolset answers within its timeout whatever the server does: a hung server becomes a
``ModelRetry`` the model can read and explain, and the other servers are untouched. A server
that goes away during a call (it crashed, or Angie is stopping) is no answer the model may
settle the task on: :class:`ServerGone` ends the run, and the task runs again. What a call or a
listing finds of a third-party server (it answered; it crashed or hung, and why) is reported to
its health.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx2
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from mcp import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from mcp.types import Tool as McpTool
from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from angie.mcp.health import HealthRecorder
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import ServerGone, Supervisor, SupervisorError, child_environ

__all__ = (
    "GuardedToolset",
    "HealthReport",
    "ServerToolset",
    "ServerTrouble",
    "shared_ssl_context",
    "stdio_transport",
)

log = logging.getLogger(__name__)

# What a server that crashed, hung up or never started looks like from the client side.
_UNAVAILABLE = (OSError, EOFError, RuntimeError, httpx2.TransportError, MCPError, SupervisorError)


_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.I)

# Whether the server a call went to is gone, and why; None while it still runs.
GoneCheck = Callable[[], Awaitable[str | None]]
# What a call found of the server: None, it answered; else the sentence saying what went wrong.
HealthReport = Callable[[str | None], Awaitable[None]]


class ServerTrouble(ModelRetry):
    """The server, not the tool, failed the call (it stayed silent past its timeout): the model
    reads ``message``; the audit trail and the server's health keep ``said``, the sentence
    for the person."""

    def __init__(self, message: str, *, said: str, timed_out: bool) -> None:
        super().__init__(message)
        self.said = said
        self.timed_out = timed_out


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


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every MCP client of this process. httpx builds a new one for each
    client it makes (loading the CA bundle: tens of milliseconds of CPU), even for a plain
    ``http://127.0.0.1`` server that will never use it."""
    return httpx2.create_ssl_context()


async def _still_there() -> None:
    return None


def _nothing_broken() -> None:
    return None


async def _unreported(_found: str | None) -> None:
    return None


@dataclass
class GuardedToolset(WrapperToolset[Any]):
    server: str = ""
    timeout: float = 30.0
    gone: GoneCheck = _still_there
    report: HealthReport = _unreported
    # What a dropped connection means of this server ("exited" for a stdio server of its own).
    dropped: str = "closed the connection"
    # Told when the connection is found broken, so the next run connects anew.
    broken: Callable[[], None] = _nothing_broken
    _connected: bool = field(default=False, init=False, repr=False)
    _listed: bool = field(default=False, init=False, repr=False)

    async def __aenter__(self) -> Self:
        try:
            async with asyncio.timeout(self.timeout):
                await self.wrapped.__aenter__()
            self._connected = True
        except (TimeoutError, *_UNAVAILABLE) as err:
            log.warning("cannot connect to MCP server %s: %r", self.server, err)
            await self.report(self._unreachable(err))
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
                tools = await self.wrapped.get_tools(ctx)
        except (TimeoutError, *_UNAVAILABLE) as err:
            # One server down must not take the whole agent down: it just has no tools now.
            log.warning("MCP server %s offers no tools right now: %r", self.server, err)
            await self.report(self._unreachable(err))
            return {}
        if not self._listed:
            # Only the first listing asks the server; later ones are the client's cached copy,
            # no news of a server that may have hung since.
            self._listed = True
            await self.report(None)
        return tools

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                result = await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except TimeoutError as err:
            raise await self._silent() from err
        except ModelRetry as err:
            # pydantic-ai turns a dropped connection into a retry reading "Connection closed",
            # a server killed mid-answer into "Server returned an error response" and its own
            # read timeout into a retry too: none is the tool's answer. Tool errors of a server
            # still running pass through.
            cause = err.__cause__
            code = cause.code if isinstance(cause, MCPError) else None
            why = await self.gone()
            if why is not None or code == CONNECTION_CLOSED:
                raise await self._gone(why or self.dropped) from err
            if code == REQUEST_TIMEOUT:
                raise await self._silent() from err
            await self.report(None)
            raise
        except _UNAVAILABLE as err:
            why = await self.gone()
            if why is None and isinstance(err, MCPError) and err.code != CONNECTION_CLOSED:
                raise await self._refused(err) from err  # the server runs and said no
            if why is None and isinstance(err, MCPError):
                why = self.dropped
            raise await self._gone(why or f"could not be reached ({type(err).__name__})") from err
        await self.report(None)
        return result

    async def _silent(self) -> ServerTrouble:
        said = f"the {self.server} server did not answer within {self.timeout:g} s"
        await self.report(said)
        return ServerTrouble(
            f"The {self.server} server did not answer within {self.timeout:g} seconds. "
            "Tell the user it is not responding rather than retrying now.",
            said=said,
            timed_out=True,
        )

    async def _refused(self, err: MCPError) -> ModelRetry:
        if err.code == REQUEST_TIMEOUT:
            return await self._silent()
        await self.report(None)
        return ModelRetry(f"The {self.server} server answered with an error: {err.message}")

    async def _gone(self, why: str) -> ServerGone:
        self.broken()
        gone = ServerGone(f"the {self.server} server {why} during a call")
        await self.report(gone.message)
        return gone

    def _unreachable(self, err: BaseException) -> str:
        if isinstance(err, TimeoutError):
            return f"the {self.server} server did not answer within {self.timeout:g} s"
        cause = unreachable_cause(err, self.dropped)
        return f"the {self.server} server could not be reached ({cause})"


def unreachable_cause(err: BaseException, dropped: str = "closed the connection") -> str:
    """Why a server could not be had, in a few words: the client's own reason where it gives
    one ("No such file or directory: 'uvx'", "All connection attempts failed")."""
    if isinstance(err, MCPError) and err.code == CONNECTION_CLOSED:
        return f"it {dropped} before answering"
    if isinstance(err, TimeoutError) or (isinstance(err, MCPError) and err.code == REQUEST_TIMEOUT):
        return "it did not answer in time"
    text = str(err).removeprefix("Client failed to connect: ").strip()
    # An address may carry a key in its query: the sentence goes to people and the audit trail.
    text = _URL.sub("the server's address", text)
    return text if text else type(err).__name__


@dataclass
class _Connection:
    """One server as it runs now (one supervisor generation): its guarded toolset, the MCP
    client under it and, once kept, the session every run and direct call shares."""

    generation: int
    toolset: AbstractToolset[Any]
    client_toolset: MCPToolset[Any]
    keeps: bool
    loop: asyncio.AbstractEventLoop | None = None
    kept: bool = False
    tools: list[McpTool] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def close(self) -> None:
        if not self.kept:
            return
        self.kept = False
        try:
            await self.client_toolset.__aexit__(None, None, None)
        except Exception as err:  # the server may be gone already; closing is no news then
            log.debug("closing a kept MCP session failed: %r", err)


class ServerToolset(AbstractToolset[Any]):
    """The tools of one server, one MCP session shared by every run and direct call.

    A session costs a connection, the initialize handshake and a tool listing; Angie makes it
    once per server and keeps it while the server runs. Built-in servers are reached where the
    supervisor runs them now: after a restart (a new generation: new port, new token) the next
    run connects anew and the old session is closed. A remote HTTP server found gone is
    connected anew by the next run. A stdio server of the mcpServers file keeps today's
    lifetime: a process per run, ended with it.
    """

    def __init__(
        self,
        spec: ServerSpec,
        supervisor: Supervisor | None = None,
        *,
        timeout: float = 30.0,
        environ: Mapping[str, str] | None = None,
        health: HealthRecorder | None = None,
    ) -> None:
        self.spec = spec
        self._supervisor = supervisor
        self._timeout = timeout
        self._environ = dict(environ or {})
        self._health = health
        self._current: _Connection | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def id(self) -> str:
        return self.spec.name

    @property
    def supervisor(self) -> Supervisor | None:
        return self._supervisor

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
            return endpoint.generation, MCPToolset(
                endpoint.url, auth=endpoint.token, verify=shared_ssl_context(), **options
            )
        if spec.transport == "stdio":
            return 0, MCPToolset(stdio_transport(spec, self._environ), **options)
        return 0, MCPToolset(
            str(spec.url), headers=dict(spec.headers), verify=shared_ssl_context(), **options
        )

    def current(self) -> AbstractToolset[Any]:
        """The guarded, prefixed toolset for the server as it runs now."""
        return self._connection().toolset

    def _connection(self) -> _Connection:
        generation = self._supervisor_generation()
        current = self._current
        if current is not None and current.generation == generation:
            return current
        generation, client = self._client_toolset()
        guarded = GuardedToolset(
            client,
            server=self.spec.name,
            timeout=self._timeout,
            gone=self._gone(generation),
            report=self._report,
            # A stdio server of its own that hangs up has exited: its process is the pipe.
            dropped="exited" if self._own_stdio() else "closed the connection",
            broken=functools.partial(self._discard, generation),
        )
        self._forget()
        self._current = _Connection(
            generation, guarded.prefixed(self.spec.name), client, keeps=not self._own_stdio()
        )
        return self._current

    def _discard(self, generation: int) -> None:
        if self._current is not None and self._current.generation == generation:
            self._forget()

    def _forget(self) -> None:
        """Drop the current connection; its kept session is closed in the background (runs
        still holding it end on their own: their server is gone or replaced)."""
        old, self._current = self._current, None
        if old is None or not old.kept:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if old.loop is not loop:
            return  # a session of a loop that has ended (a test's) is closed with it
        closing = loop.create_task(old.close())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _keep(self, connection: _Connection) -> None:
        """Open the shared session once; a server that cannot be had now is left to the run,
        which says why (and the next run tries again)."""
        if not connection.keeps:
            return
        loop = asyncio.get_running_loop()
        async with connection.lock:
            if connection.kept and connection.loop is loop:
                return
            # Not opened yet, or opened on a loop that has ended since.
            try:
                async with asyncio.timeout(self._timeout):
                    await connection.client_toolset.__aenter__()
            except (TimeoutError, *_UNAVAILABLE) as err:
                log.info("cannot keep a session with MCP server %s: %r", self.spec.name, err)
                return
            connection.kept, connection.loop = True, loop

    async def aclose(self) -> None:
        """Close the shared session (Angie is stopping)."""
        current, self._current = self._current, None
        if current is not None:
            await current.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _own_stdio(self) -> bool:
        return not self.spec.builtin and self.spec.transport == "stdio"

    async def _report(self, found: str | None) -> None:
        if self._health is None:
            return
        if found is None:
            await self._health.answered(self.spec)
        else:
            await self._health.failed(self.spec, found)

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

    async def _ready(self) -> _Connection:
        if self.spec.builtin and self._supervisor is not None:
            await self._supervisor.ready(self.spec.name, within=self._timeout)
        connection = self._connection()
        await self._keep(connection)
        return connection

    async def for_run(self, ctx: RunContext[Any] | None) -> AbstractToolset[Any]:
        """The toolset now; a built-in server being restarted is waited for up to the timeout,
        and one that cannot be had raises :class:`SupervisorError` so the task is retried later
        rather than run without the server's tools."""
        return (await self._ready()).toolset

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[tuple[Client[Any], list[McpTool]]]:
        """A connected client and the server's tools, for a direct call: the shared session
        when there is one (its tool list fetched once), else a session of its own."""
        connection = await self._ready()
        client = connection.client_toolset.client
        async with client:
            tools = connection.tools
            if tools is None:
                tools = (await client.list_tools_mcp()).tools
                if connection.kept:
                    connection.tools = tools
            yield client, tools

    def broken(self) -> None:
        """The current session failed in a way that says the server is gone: the next run or
        call connects anew."""
        self._forget()

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        return await (await self.for_run(ctx)).get_tools(ctx)

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        return await (await self.for_run(ctx)).call_tool(name, tool_args, ctx, tool)
