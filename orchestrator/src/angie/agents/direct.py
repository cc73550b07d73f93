"""Direct tool calls (``/tool server.tool {json}`` in chat): no model involved, the person's own
words are the consent, but the policy's "never" still holds and every call is audited."""

from __future__ import annotations

import time
from typing import Any

import httpx2
from fastmcp.exceptions import ToolError
from mcp import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from pydantic_ai.tools import ToolDefinition

from angie.agents.audit import DatabaseRecorder, ToolCallRecord, redact
from angie.agents.policy import Decision, load_policy
from angie.agents.toolbox import Toolbox
from angie.db.models import ToolCallOutcome
from angie.errors import AngieError, Invalid, Unavailable
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import ServerGone, SupervisorError
from angie.mcp.toolsets import unreachable_cause

__all__ = ("DirectCallError", "DirectCaller", "ServerSilent")

# What a server that hung, crashed or was stopped looks like from the client side.
_BROKEN = (MCPError, httpx2.TransportError, RuntimeError, EOFError, ConnectionError)


class DirectCallError(Invalid):
    """The call could not be made; one sentence for the person."""


class ServerSilent(Unavailable):
    """The server took the call and did not answer in time; the message names it."""


class DirectCaller:
    def __init__(self, toolbox: Toolbox) -> None:
        self.toolbox = toolbox

    async def call(
        self,
        task_id: int,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        *,
        recorded: list[ToolCallRecord] | None = None,
    ) -> Any:
        """Make the call and audit it: in a transaction of its own, or, given ``recorded``,
        appended there for the caller to write with the task's end (one transaction less)."""
        spec = self.toolbox.spec(server)
        if spec is None:
            known = ", ".join(sorted(self.toolbox.installed())) or "none"
            raise DirectCallError(f"no MCP server named {server!r} is enabled (enabled: {known})")
        async with self.toolbox.db.session() as session:
            policy = await load_policy(session)
        started = time.monotonic()
        outcome, error, data = ToolCallOutcome.OK, None, None
        generation = self._generation(spec)
        connected = False
        try:
            server_toolset = self.toolbox.server(spec.name)
            assert server_toolset is not None  # the spec is enabled
            async with server_toolset.session() as (client, listed):
                connected = True
                tools = {t.name: t for t in listed}
                await self.toolbox.health.answered(spec)
                if tool not in tools:
                    raise DirectCallError(
                        f"{server} has no tool {tool!r} (tools: {', '.join(sorted(tools))})"
                    )
                annotations = tools[tool].annotations
                tool_def = ToolDefinition(
                    name=f"{server}_{tool}",
                    metadata={
                        "annotations": annotations.model_dump(by_alias=True, exclude_none=True)
                        if annotations
                        else None
                    },
                )
                if policy.decide(server, tool, tool_def, untrusted=False) is Decision.NEVER:
                    outcome = ToolCallOutcome.DENIED
                    raise DirectCallError(f"your policy never allows {server}.{tool}")
                # The raw result: the server checked its output against its schema already,
                # and what Angie keeps is the structured content as sent.
                result = await client.call_tool_mcp(tool, arguments)
                if result.is_error:
                    outcome = ToolCallOutcome.ERROR
                    text = " ".join(getattr(c, "text", "") for c in result.content).strip()
                    raise DirectCallError(text or f"{server}.{tool} failed")
                data = result.structured_content
                if data is None:
                    data = [getattr(c, "text", str(c)) for c in result.content]
                return data
        except (DirectCallError, SupervisorError) as err:
            error = err.message
            if outcome is ToolCallOutcome.OK:
                outcome = ToolCallOutcome.ERROR
            raise
        except _BROKEN as err:
            broken = await self._broken(spec, generation, err, connected=connected)
            if isinstance(broken, (ServerGone, SupervisorError)):
                self._reconnect_next_time(spec)
            outcome = ToolCallOutcome.TIMEOUT if isinstance(broken, ServerSilent) else outcome
            if outcome is ToolCallOutcome.OK:
                outcome = ToolCallOutcome.ERROR
            error = broken.message
            if isinstance(broken, DirectCallError):  # it answered, with a protocol error
                await self.toolbox.health.answered(spec)
            else:
                await self.toolbox.health.failed(spec, error)
            raise broken from err
        except (OSError, TimeoutError, ToolError) as err:
            outcome, error = ToolCallOutcome.ERROR, f"{type(err).__name__}: {err}"
            reached = DirectCallError(f"the {server} server could not be reached ({error})")
            await self.toolbox.health.failed(spec, reached.message)
            raise reached from err
        finally:
            record = ToolCallRecord(
                server=server,
                tool=tool,
                arguments=redact(arguments),
                outcome=outcome,
                error=error,
                duration_ms=int((time.monotonic() - started) * 1000),
                tool_call_id=None,
            )
            if recorded is not None:
                recorded.append(record)
            else:
                await DatabaseRecorder(self.toolbox.db, task_id).record(record)

    def _reconnect_next_time(self, spec: ServerSpec) -> None:
        server_toolset = self.toolbox.server(spec.name)
        if server_toolset is not None:
            server_toolset.broken()

    def _generation(self, spec: ServerSpec) -> int | None:
        supervisor = self.toolbox.supervisor
        if not spec.builtin or supervisor is None or spec.name not in supervisor.names:
            return None
        try:
            return supervisor.endpoint(spec.name).generation
        except SupervisorError:
            return None

    async def _broken(
        self, spec: ServerSpec, generation: int | None, err: Exception, *, connected: bool
    ) -> AngieError:
        """What happened to the server, in a sentence that names it: gone (the task runs again),
        never had (not started, not reached) or silent past its timeout (the task fails,
        saying so)."""
        supervisor = self.toolbox.supervisor
        why = None
        if generation is not None and supervisor is not None:
            why = await supervisor.went_away(spec.name, generation)
        if why is not None:
            return ServerGone(f"the {spec.name} server {why} during the call")
        if isinstance(err, MCPError) and err.code == REQUEST_TIMEOUT:
            return ServerSilent(
                f"the {spec.name} server did not answer within {self.toolbox.timeout_for(spec):g} s"
            )
        if isinstance(err, MCPError) and err.code != CONNECTION_CLOSED:
            return DirectCallError(f"the {spec.name} server answered with an error: {err.message}")
        own_stdio = not spec.builtin and spec.transport == "stdio"
        # A stdio server of its own that hangs up has exited: its process is the pipe.
        dropped = "exited" if own_stdio else "closed the connection"
        if not connected:
            verb = "started" if own_stdio else "reached"
            cause = unreachable_cause(err, dropped)
            return SupervisorError(f"the {spec.name} server could not be {verb} ({cause})")
        return ServerGone(f"the {spec.name} server {dropped} during the call")
