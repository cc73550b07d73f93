"""GitHub Copilot as a pydantic-ai model: each request runs through a Copilot runtime session."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot import CopilotClient, RuntimeConnection, Tool

# The SDK exports no base class for these; they are what its calls raise when the runtime fails.
from copilot._jsonrpc import JsonRpcError, ProcessExitedError
from copilot.rpc import PermissionDecisionUserNotAvailable
from copilot.session import ProviderConfig
from pydantic_ai.exceptions import ModelAPIError
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    ModelResponseStreamEvent,
    TextPart,
)
from pydantic_ai.models import (
    Model,
    ModelRequestParameters,
    StreamedResponse,
    check_allow_model_requests,
)
from pydantic_ai.settings import ModelSettings

from angie.agents.copilot.prompt import render_prompt, system_prompt, tool_results
from angie.agents.copilot.runtime import Runtime, RuntimePool, Segment, Turn

__all__ = ("CopilotModel",)


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
        self._pool = RuntimePool(self._make_client)

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
                if isinstance(item, Segment):
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
    ) -> AsyncGenerator[str | Segment]:
        async with self._pool.lease() as runtime:
            with _sdk_errors(self._model_name):
                await runtime.start(self._model_name)
                results = tool_results(messages)
                turn = runtime.resume(set(results)) if results else None
                # No paused session to continue (a new run, or Angie restarted): start one afresh.
                prompt = render_prompt(messages) if turn is None else None
                if turn is None:
                    turn = await self._open(runtime, messages, params)
                outcome: Segment | None = None
                try:
                    if prompt is not None:
                        await turn.session.send(prompt)
                    else:
                        await turn.answer(results)
                    async with aclosing(turn.run(self._model_name, self._timeout)) as items:
                        async for item in items:
                            if isinstance(item, Segment):
                                outcome = item
                                if item.calls:
                                    runtime.pause(turn)
                            yield item
                finally:
                    # Ended, failed or abandoned: the session is done unless it waits on tools.
                    if outcome is None or not outcome.calls:
                        await runtime.finish(turn)

    async def _open(
        self, runtime: Runtime, messages: list[ModelMessage], params: ModelRequestParameters
    ) -> Turn:
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
            system_message={"mode": "replace", "content": system_prompt(messages, instructions)},
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
    _items: AsyncIterator[str | Segment]
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
