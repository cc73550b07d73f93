"""GitHub Copilot as a pydantic-ai model: each request runs through a Copilot runtime session.

Copilot runs an agent loop of its own; Angie keeps hers. Her tools are declared to the session
without handlers, so a tool call pauses the session on an external tool request, goes back to
pydantic-ai like any model's tool call, and the next request's tool results resume it. The
runtime (a native binary from npm, see ``make copilot-runtime``) runs while agent runs use it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot import CopilotClient, CopilotSession, RuntimeConnection, SessionEvent, StopError, Tool

# The SDK exports no base class for these; they are what its calls raise when the runtime fails.
from copilot._jsonrpc import JsonRpcError, ProcessExitedError
from copilot.rpc import (
    ExternalToolTextResultForLlm,
    HandlePendingToolCallRequest,
    PermissionDecisionUserNotAvailable,
)
from copilot.session import ProviderConfig
from copilot.session_events import (
    AssistantMessageData,
    AssistantMessageDeltaData,
    AssistantUsageData,
    ExternalToolRequestedData,
    SessionErrorData,
    SessionIdleData,
)
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError, UserError
from pydantic_ai.messages import (
    CachePoint,
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    RetryFeedbackPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import (
    Model,
    ModelRequestParameters,
    StreamedResponse,
    check_allow_model_requests,
)
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

__all__ = ("RUNTIME_DIR", "RUNTIME_VERSION", "CopilotModel", "find_runtime", "runtime_in")

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


# -- Messages: pydantic-ai history -> one Copilot prompt --------------------------------------


def _user_text(part: UserPromptPart) -> str:
    if isinstance(part.content, str):
        return part.content
    texts: list[str] = []
    for item in part.content:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, TextContent):
            texts.append(item.content)
        elif not isinstance(item, CachePoint):
            raise UserError(f"Copilot models in Angie take text only, not {item.kind} content.")
    return "\n".join(texts)


def _system_prompt(
    messages: Sequence[ModelMessage], instructions: Sequence[InstructionPart]
) -> str:
    """The session's system message: the history's system prompts, then the instructions."""
    prompts = [
        part.content
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, SystemPromptPart)
    ]
    return "\n\n".join([*prompts, InstructionPart.join(instructions) or ""]).strip()


def _render_prompt(messages: Sequence[ModelMessage]) -> str:
    """The prompt of a fresh session: the last user message alone, or the whole conversation."""
    lines: list[str] = []
    only_user = True
    for message in messages:
        for part in message.parts:
            if isinstance(part, UserPromptPart):
                lines.append(f"User: {_user_text(part)}")
                continue
            if isinstance(part, SystemPromptPart):
                continue
            only_user = False
            if isinstance(part, TextPart) and part.content:
                lines.append(f"Assistant: {part.content}")
            elif isinstance(part, ToolCallPart):
                lines.append(
                    f"Assistant called the tool {part.tool_name} (call {part.tool_call_id}) "
                    f"with {part.args_as_json_str()}"
                )
            elif isinstance(part, ToolReturnPart):
                lines.append(f"Tool result (call {part.tool_call_id}): {part.model_response_str()}")
            elif isinstance(part, RetryFeedbackPart):
                lines.append(f"Feedback: {part.model_response()}")
    if only_user and len(lines) == 1:
        return lines[0].removeprefix("User: ")
    # A new session has no memory of earlier turns, so it reads them as a transcript.
    return (
        "<conversation>\n" + "\n\n".join(lines) + "\n</conversation>\n\n"
        "Continue this conversation: answer its last message as the assistant."
    )


def _tool_results(messages: Sequence[ModelMessage]) -> dict[str, ExternalToolTextResultForLlm]:
    """The results the last request carries, when it carries nothing else."""
    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest) or not last.parts:
        return {}
    if not all(isinstance(part, ToolReturnPart) for part in last.parts):
        return {}
    return {
        part.tool_call_id: ExternalToolTextResultForLlm(
            text_result_for_llm=part.model_response_str(),
            result_type=_RESULT_TYPES.get(part.outcome, "failure"),
        )
        for part in last.parts
        if isinstance(part, ToolReturnPart)
    }


# -- Sessions --------------------------------------------------------------------------------


@dataclass
class _Segment:
    """What a session said up to a pause: text, then the tool calls it waits on (none: it ended)."""

    text: str
    calls: list[ToolCallPart]
    usage: RequestUsage


class _Turn:
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

    async def run(self, model_name: str, seconds: float) -> AsyncGenerator[str | _Segment]:
        """Text deltas as they stream, then the :class:`_Segment` up to the next pause."""
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
                    yield _Segment("\n\n".join(texts), calls, usage)
                    return
            elif isinstance(data, SessionErrorData):
                message = f"Copilot: {data.message}"
                if data.status_code:
                    raise ModelHTTPError(data.status_code, model_name, body=message)
                raise ModelAPIError(model_name, message, provider_error_type=data.error_type)
            elif isinstance(data, SessionIdleData):
                yield _Segment("\n\n".join(texts), [], usage)
                return


class _Runtime:
    """One runtime process and its paused sessions, serving the requests of one event loop."""

    def __init__(self, client: CopilotClient) -> None:
        self.client = client
        self.leases = 0
        self._paused: dict[str, _Turn] = {}  # by each tool call id a paused turn waits on
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

    async def open(self, names: frozenset[str], **options: Any) -> _Turn:
        """A new session; ``names`` are the tools Angie declared to it."""
        events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        session = await self.client.create_session(on_event=events.put_nowait, **options)
        return _Turn(session, events, names)

    def pause(self, turn: _Turn) -> None:
        for call_id in turn.waiting:
            self._paused[call_id] = turn

    def resume(self, call_ids: set[str]) -> _Turn | None:
        """The paused turn waiting on exactly these tool calls, if there is one."""
        turn = self._paused.get(next(iter(call_ids))) if call_ids else None
        if turn is None or turn.waiting != call_ids:
            return None
        for call_id in call_ids:
            del self._paused[call_id]
        return turn

    async def finish(self, turn: _Turn) -> None:
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


class _RuntimePool:
    """A runtime per event loop, started on first request and stopped when its last lease ends."""

    def __init__(self, make_client: Callable[[], CopilotClient]) -> None:
        self._make_client = make_client
        self._runtimes: dict[asyncio.AbstractEventLoop, _Runtime] = {}
        self._lock = threading.Lock()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[_Runtime]:
        loop = asyncio.get_running_loop()
        with self._lock:
            runtime = self._runtimes.get(loop)
            if runtime is None:
                runtime = self._runtimes[loop] = _Runtime(self._make_client())
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


# -- The model -------------------------------------------------------------------------------


class CopilotModel(Model):
    """A model behind the GitHub Copilot runtime, on GitHub's models or your own server (BYOK).

    Args:
        model_name: the Copilot model (``gpt-4.1``, ``claude-sonnet-4.5``; any name with BYOK).
        runtime: the runtime binary; None lets the SDK find or download one.
        home: the runtime's data directory (its config and session state).
        base_url: an OpenAI-compatible server to run the model on instead of GitHub's.
        api_key: that server's key.
        env: extra environment for the runtime process, which otherwise inherits Angie's.
        timeout: seconds one request may wait for the session.
    """

    def __init__(
        self,
        model_name: str,
        *,
        runtime: Path | None = None,
        home: Path | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 600.0,
        settings: ModelSettings | None = None,
    ) -> None:
        super().__init__(settings=settings)
        self._model_name = model_name
        self._runtime_path = runtime
        self._home = home
        self._base_url = base_url
        self._api_key = api_key
        # Angie keeps to herself: no usage reports to GitHub unless the environment says so.
        self._env = {"COPILOT_GITHUB_TELEMETRY_DISABLED": "true", **(env or {})}
        self._timeout = timeout
        self._pool = _RuntimePool(self._make_client)

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "copilot"

    @property
    def base_url(self) -> str | None:
        return self._base_url

    def _make_client(self) -> CopilotClient:
        path = self._runtime_path
        home = None
        if self._home is not None:
            self._home.mkdir(parents=True, exist_ok=True)
            home = str(self._home)
        return CopilotClient(
            connection=RuntimeConnection.for_stdio(path=str(path)) if path else None,
            base_directory=home,
            working_directory=home,
            env={**os.environ, **self._env},
            use_logged_in_user=False,
            # Angie's tools only: none of the runtime's own shell, file or web tools.
            mode="empty",
        )

    def _run_scope(self) -> AbstractAsyncContextManager[None]:
        # pydantic-ai holds this around an agent run, so one runtime and the sessions paused on
        # tool calls live from the run's first request to its last.
        @asynccontextmanager
        async def scope() -> AsyncIterator[None]:
            async with self._pool.lease():
                yield

        return scope()

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        check_allow_model_requests()
        _, params = self.prepare_request(model_settings, model_request_parameters)
        async with aclosing(self._exchange(messages, params)) as items:
            async for item in items:
                if isinstance(item, _Segment):
                    return ModelResponse(
                        parts=[*([TextPart(item.text)] if item.text else []), *item.calls],
                        usage=item.usage,
                        model_name=self._model_name,
                        provider_name=self.system,
                        finish_reason="tool_call" if item.calls else "stop",
                    )
        raise ModelAPIError(self._model_name, "the Copilot session ended without an answer")

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: Any = None,
    ) -> AsyncIterator[StreamedResponse]:
        check_allow_model_requests()
        _, params = self.prepare_request(model_settings, model_request_parameters)
        async with aclosing(self._exchange(messages, params)) as items:
            yield _CopilotStream(params, _model_name=self._model_name, _items=items)

    async def _exchange(
        self, messages: list[ModelMessage], params: ModelRequestParameters
    ) -> AsyncGenerator[str | _Segment]:
        async with self._pool.lease() as runtime:
            with _sdk_errors(self._model_name):
                await runtime.start(self._model_name)
                results = _tool_results(messages)
                turn = runtime.resume(set(results)) if results else None
                # No paused session to continue (a new run, or Angie restarted): start one afresh.
                prompt = _render_prompt(messages) if turn is None else None
                if turn is None:
                    turn = await self._open(runtime, messages, params)
                outcome: _Segment | None = None
                try:
                    if prompt is not None:
                        await turn.session.send(prompt)
                    else:
                        await turn.answer(results)
                    async with aclosing(turn.run(self._model_name, self._timeout)) as items:
                        async for item in items:
                            if isinstance(item, _Segment):
                                outcome = item
                                if item.calls:
                                    runtime.pause(turn)
                            yield item
                finally:
                    # Ended, failed or abandoned: the session is done unless it waits on tools.
                    if outcome is None or not outcome.calls:
                        await runtime.finish(turn)

    async def _open(
        self, runtime: _Runtime, messages: list[ModelMessage], params: ModelRequestParameters
    ) -> _Turn:
        tools = [*params.function_tools, *params.output_tools]
        provider: ProviderConfig | None = None
        if self._base_url is not None:
            provider = {
                "type": "openai",
                "wire_api": "completions",
                "base_url": self._base_url,
                "api_key": self._api_key or "not-needed",
            }
        instructions = self._get_instruction_parts(messages, params) or []
        return await runtime.open(
            frozenset(tool.name for tool in tools),
            model=self._model_name,
            provider=provider,
            streaming=True,
            tools=[
                Tool(
                    name=tool.name,
                    description=tool.description or "",
                    parameters=tool.parameters_json_schema,
                    # Angie's approval policy has decided already; the runtime must not ask.
                    skip_permission=True,
                    overrides_built_in_tool=True,
                )
                for tool in tools
            ],
            available_tools=[f"custom:{tool.name}" for tool in tools],
            system_message={"mode": "replace", "content": _system_prompt(messages, instructions)},
            on_permission_request=lambda request, invocation: PermissionDecisionUserNotAvailable(),
        )


@contextmanager
def _sdk_errors(model_name: str) -> Iterator[None]:
    """The SDK's JSON-RPC and process errors, as the model error pydantic-ai callers expect."""
    try:
        yield
    except (JsonRpcError, ProcessExitedError) as err:
        raise ModelAPIError(model_name, f"the Copilot runtime failed: {err}") from err


@dataclass
class _CopilotStream(StreamedResponse):
    """A Copilot answer as pydantic-ai stream events: text deltas, then any tool calls."""

    _model_name: str
    _items: AsyncIterator[str | _Segment]
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        streamed = False
        async for item in self._items:
            if isinstance(item, str):
                streamed = True
                for event in self._parts_manager.handle_text_delta(
                    vendor_part_id="text", content=item
                ):
                    yield event
                continue
            if item.text and not streamed:
                for event in self._parts_manager.handle_text_delta(
                    vendor_part_id="text", content=item.text
                ):
                    yield event
            for call in item.calls:
                yield self._parts_manager.handle_tool_call_part(
                    vendor_part_id=call.tool_call_id,
                    tool_name=call.tool_name,
                    args=call.args,
                    tool_call_id=call.tool_call_id,
                )
            self._usage = item.usage
            self.finish_reason = "tool_call" if item.calls else "stop"
            return

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def provider_name(self) -> str:
        return "copilot"

    @property
    def provider_url(self) -> None:
        return None

    @property
    def timestamp(self) -> datetime:
        return self._timestamp
