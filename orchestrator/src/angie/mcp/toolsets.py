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
import logging
import re
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

from angie.mcp.health import HealthRecorder
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import ServerGone, Supervisor, SupervisorError, child_environ

__all__ = ("GuardedToolset", "HealthReport", "ServerToolset", "ServerTrouble", "stdio_transport")

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


async def _still_there() -> None:
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
        health: HealthRecorder | None = None,
    ) -> None:
        self.spec = spec
        self._supervisor = supervisor
        self._timeout = timeout
        self._environ = dict(environ or {})
        self._health = health
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
                client,
                server=self.spec.name,
                timeout=self._timeout,
                gone=self._gone(generation),
                report=self._report,
                # A stdio server of its own that hangs up has exited: its process is the pipe.
                dropped="exited" if self._own_stdio() else "closed the connection",
            )
            self._current = (generation, guarded.prefixed(self.spec.name))
        return self._current[1]

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
