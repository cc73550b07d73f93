"""The GitHub Copilot runtime: where its binary is, and the process per event loop whose
sessions answer Angie's requests, paused while Angie runs the tools they call."""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot import CopilotClient, CopilotSession, SessionEvent, StopError

# The SDK exports no base class for these; they are what its calls raise when the runtime fails.
from copilot._jsonrpc import JsonRpcError, ProcessExitedError
from copilot.rpc import ExternalToolTextResultForLlm, HandlePendingToolCallRequest
from copilot.session_events import (
    AssistantMessageData,
    AssistantMessageDeltaData,
    AssistantUsageData,
    ExternalToolRequestedData,
    SessionErrorData,
    SessionIdleData,
)
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.messages import ToolCallPart
from pydantic_ai.usage import RequestUsage

__all__ = (
    "RUNTIME_DIR",
    "RUNTIME_VERSION",
    "Runtime",
    "RuntimePool",
    "Segment",
    "Turn",
    "find_runtime",
    "runtime_in",
)

log = logging.getLogger(__name__)

#: The npm release of @github/copilot that ``make copilot-runtime`` installs.
RUNTIME_VERSION = "1.0.102"
#: Where ``make copilot-runtime`` installs it (outside the repository: the binary is ~190 MB).
RUNTIME_DIR = Path.home() / ".cache" / "angie" / "copilot"
_RESULT_TYPES = {"success": "success", "denied": "denied"}  # anything else is a failure


def runtime_in(directory: Path) -> Path:
    """The binary that ``npm install --prefix directory @github/copilot`` puts there."""
    system = {"win32": "win32", "darwin": "darwin"}.get(sys.platform, "linux")
    arch = "arm64" if platform.machine().lower() in {"arm64", "aarch64"} else "x64"
    binary = "copilot.exe" if system == "win32" else "copilot"
    return directory / "node_modules" / "@github" / f"copilot-{system}-{arch}" / binary


def find_runtime(configured: Path | None = None) -> Path | None:
    """ANGIE_COPILOT_CLI_PATH, then COPILOT_CLI_PATH, then :data:`RUNTIME_DIR`; None leaves the
    lookup to the SDK, which downloads its own runtime where GitHub is reachable."""
    from_env = os.environ.get("COPILOT_CLI_PATH")
    for candidate in (configured, Path(from_env) if from_env else None, runtime_in(RUNTIME_DIR)):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


# -- Sessions --------------------------------------------------------------------------------------


@dataclass
class Segment:
    """What a session said up to a pause: text, then the tool calls it waits on (none: it ended)."""

    text: str
    calls: list[ToolCallPart]
    usage: RequestUsage


class Turn:
    """One Copilot session answering one pydantic-ai conversation, paused while Angie runs tools."""

    def __init__(
        self, session: CopilotSession, events: asyncio.Queue[SessionEvent], tools: frozenset[str]
    ) -> None:
        self.session = session
        self.tools = tools
        self.waiting: set[str] = set()  # tool call ids handed to pydantic-ai
        self._events = events
        self._results: dict[str, ExternalToolTextResultForLlm] = {}
        self._asked: dict[str, str] = {}  # tool call id -> the runtime's request id

    async def answer(self, results: dict[str, ExternalToolTextResultForLlm]) -> None:
        self._results.update(results)
        self.waiting.clear()
        await self._send_answers()

    async def _send_answers(self) -> None:
        # The runtime asks for one external tool at a time, so an answer waits for its question.
        for call_id in [c for c in self._asked if c in self._results]:
            request = HandlePendingToolCallRequest(
                request_id=self._asked.pop(call_id), result=self._results.pop(call_id)
            )
            await self.session.rpc.tools.handle_pending_tool_call(request)

    async def run(self, model_name: str, seconds: float) -> AsyncGenerator[str | Segment]:
        """Text deltas as they stream, then the :class:`Segment` up to the next pause."""
        deadline = asyncio.get_running_loop().time() + seconds
        texts: list[str] = []
        usage = RequestUsage()
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    data = (await self._events.get()).data
            except TimeoutError:
                raise ModelAPIError(
                    model_name, f"Copilot gave no answer within {seconds:.0f} seconds"
                ) from None
            if isinstance(data, AssistantMessageDeltaData) and not data.parent_tool_call_id:
                yield data.delta_content
            elif isinstance(data, AssistantUsageData):
                usage += RequestUsage(
                    input_tokens=data.input_tokens or 0,
                    output_tokens=data.output_tokens or 0,
                    cache_read_tokens=data.cache_read_tokens or 0,
                    cache_write_tokens=data.cache_write_tokens or 0,
                )
            elif isinstance(data, ExternalToolRequestedData):
                self._asked[data.tool_call_id] = data.request_id
                await self._send_answers()
            elif isinstance(data, AssistantMessageData) and not data.parent_tool_call_id:
                if data.content:
                    texts.append(data.content)
                # Calls to tools Angie did not declare are the runtime's to refuse.
                calls = [
                    ToolCallPart(call.name, call.arguments or {}, call.tool_call_id)
                    for call in data.tool_requests or ()
                    if call.name in self.tools
                ]
                if calls:
                    self.waiting = {call.tool_call_id for call in calls}
                    yield Segment("\n\n".join(texts), calls, usage)
                    return
            elif isinstance(data, SessionErrorData):
                message = f"Copilot: {data.message}"
                if data.status_code:
                    raise ModelHTTPError(data.status_code, model_name, body=message)
                raise ModelAPIError(model_name, message, provider_error_type=data.error_type)
            elif isinstance(data, SessionIdleData):
                yield Segment("\n\n".join(texts), [], usage)
                return


class Runtime:
    """One runtime process and its paused sessions, serving the requests of one event loop."""

    def __init__(self, client: CopilotClient) -> None:
        self.client = client
        self.leases = 0
        self._paused: dict[str, Turn] = {}  # by each tool call id a paused turn waits on
        self._start_lock = asyncio.Lock()
        self._started = False

    async def start(self, model_name: str) -> None:
        async with self._start_lock:
            if self._started:
                return
            try:
                await self.client.start()
            except (OSError, RuntimeError) as err:
                raise ModelAPIError(
                    model_name,
                    f"the GitHub Copilot runtime did not start ({err}); `make copilot-runtime` "
                    "installs it and ANGIE_COPILOT_CLI_PATH points Angie at another one",
                ) from err
            self._started = True

    async def open(self, names: frozenset[str], **options: Any) -> Turn:
        """A new session; ``names`` are the tools Angie declared to it."""
        events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        session = await self.client.create_session(on_event=events.put_nowait, **options)
        return Turn(session, events, names)

    def pause(self, turn: Turn) -> None:
        for call_id in turn.waiting:
            self._paused[call_id] = turn

    def resume(self, call_ids: set[str]) -> Turn | None:
        """The paused turn waiting on exactly these tool calls, if there is one."""
        turn = self._paused.get(next(iter(call_ids))) if call_ids else None
        if turn is None or turn.waiting != call_ids:
            return None
        for call_id in call_ids:
            del self._paused[call_id]
        return turn

    async def finish(self, turn: Turn) -> None:
        for call_id in turn.waiting:
            self._paused.pop(call_id, None)
        try:
            # Deleted, not detached: a finished session's transcript on disk is of no use.
            await self.client.delete_session(turn.session.session_id)
        except (JsonRpcError, ProcessExitedError, OSError, RuntimeError) as err:
            log.warning("could not delete Copilot session %s: %s", turn.session.session_id, err)

    async def close(self) -> None:
        # Tool calls nobody answered (the run ended, or waits for an approval): a later run
        # continues from the transcript instead.
        for turn in set(self._paused.values()):
            await self.finish(turn)
        if not self._started:
            return
        # The SDK stops the process but leaves its pipes to the garbage collector, which warns.
        process = getattr(self.client, "_cli_process", None)
        try:
            await self.client.stop()
        except* StopError as group:
            log.warning("the Copilot runtime did not stop cleanly: %s", group.exceptions)
        finally:
            if isinstance(process, subprocess.Popen):
                for pipe in (process.stdin, process.stdout, process.stderr):
                    if pipe is not None:
                        pipe.close()


class RuntimePool:
    """A runtime per event loop, started on first request and stopped when its last lease ends."""

    def __init__(self, make_client: Callable[[], CopilotClient]) -> None:
        self._make_client = make_client
        self._runtimes: dict[asyncio.AbstractEventLoop, Runtime] = {}
        self._lock = threading.Lock()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Runtime]:
        loop = asyncio.get_running_loop()
        with self._lock:
            runtime = self._runtimes.get(loop)
            if runtime is None:
                runtime = self._runtimes[loop] = Runtime(self._make_client())
            runtime.leases += 1
        try:
            yield runtime
        finally:
            with self._lock:
                runtime.leases -= 1
                last = runtime.leases == 0
                if last:
                    del self._runtimes[loop]
            if last:
                await runtime.close()
