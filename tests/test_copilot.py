"""The Copilot model: a real Copilot runtime session, on the fake OpenAI server (BYOK), driven
through pydantic-ai agents; without the runtime installed those tests skip."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply, ToolCall, last_user_text, tool_results
from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults, RunContext
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.messages import (
    AgentStreamEvent,
    FunctionToolCallEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
)

from angie.agents.copilot import (
    RUNTIME_DIR,
    RUNTIME_VERSION,
    CopilotModel,
    find_runtime,
    runtime_in,
)
from angie.agents.copilot import runtime as copilot_runtime
from angie.agents.llm import build_model, clear_model_cache
from angie.settings import AngieSettings

RUNTIME = find_runtime()
needs_runtime = pytest.mark.skipif(
    RUNTIME is None,
    reason="the GitHub Copilot runtime is not installed: run `make copilot-runtime`",
)
KEY = "sk-copilot-test"


def script(request: dict[str, Any]) -> Reply:
    """Weather questions go through the tool (twice at once for two cities); the rest is echoed.

    Tool results come as tool messages in a live session, or in the transcript of a new one."""
    question = last_user_text(request)
    if results := tool_results(request) or re.findall(
        r"Tool result \(call [^)]*\): (.*)", question
    ):
        return Reply.say("Tools said: " + " | ".join(results))
    if "weather" in question:
        cities = ["Paris", "Oslo"] if "Oslo" in question else ["Paris"]
        calls = tuple(ToolCall("get_weather", {"city": city}) for city in cities)
        return Reply(text="Let me check.", tool_calls=calls)
    return Reply.say("Echo: " + question.rsplit("\n", 1)[-1])


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(script, api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the module: the runtime's first start in a new home takes a second longer.
    return tmp_path_factory.mktemp("copilot-home")


def copilot_model(fake: FakeOpenAI, home: Path, **options: Any) -> CopilotModel:
    # The runtime's home and HOME are the test's own, so nothing touches the developer's ~/.copilot.
    env = {"HOME": str(home), "COPILOT_GITHUB_TELEMETRY_DISABLED": "true"}
    defaults = {"runtime": RUNTIME, "home": home, "base_url": fake.url, "api_key": KEY, "env": env}
    return CopilotModel("fake", **{**defaults, **options})


def weather_agent(
    model: CopilotModel, calls: list[str], *, requires_approval: bool = False
) -> Agent[None, Any]:
    agent: Agent[None, Any] = Agent(
        model, instructions="You are Angie.", output_type=[str, DeferredToolRequests]
    )

    @agent.tool_plain(requires_approval=requires_approval)
    def get_weather(city: str) -> str:
        """The weather in a city right now."""
        calls.append(city)
        return f"sunny in {city}"

    return agent


def sessions_left(home: Path) -> list[str]:
    state = home / "session-state"
    return (
        sorted(p.name for p in state.iterdir() if not p.name.startswith("."))
        if state.exists()
        else []
    )


# -- Without the runtime ----------------------------------------------------------------------


def test_the_runtime_is_found_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configured, from_env = tmp_path / "configured", tmp_path / "from-env"
    cached = runtime_in(tmp_path / "cache")
    for path in (configured, from_env, cached):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    monkeypatch.setattr(copilot_runtime, "RUNTIME_DIR", tmp_path / "cache")
    monkeypatch.setenv("COPILOT_CLI_PATH", str(from_env))
    assert find_runtime(configured) == configured
    assert find_runtime(None) == from_env
    monkeypatch.delenv("COPILOT_CLI_PATH")
    assert find_runtime(None) == cached
    cached.unlink()
    assert find_runtime(None) is None


def test_make_copilot_runtime_installs_what_angie_looks_for() -> None:
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    assert f"COPILOT_RUNTIME_VERSION ?= {RUNTIME_VERSION}" in makefile
    assert "COPILOT_RUNTIME_DIR ?= $(HOME)/.cache/angie/copilot" in makefile
    assert Path.home() / ".cache" / "angie" / "copilot" == RUNTIME_DIR


async def test_a_runtime_that_cannot_start_is_explained(fake: FakeOpenAI, home: Path) -> None:
    model = copilot_model(fake, home, runtime=home / "no-such-copilot")
    with pytest.raises(ModelAPIError, match="make copilot-runtime"):
        await Agent(model).run("hello")


# -- A real runtime session -------------------------------------------------------------------


@needs_runtime
async def test_copilot_answers_a_prompt_with_the_instructions_as_system_message(
    fake: FakeOpenAI, home: Path
) -> None:
    result = await Agent(copilot_model(fake, home), instructions="You are Angie.").run("Hi there")
    assert result.output == "Echo: Hi there"
    (request,) = fake.requests
    assert request.system_text == "You are Angie."
    assert request.tools == []
    assert result.usage.input_tokens > 0
    assert sessions_left(home) == []


@needs_runtime
async def test_copilot_calls_angies_tools_and_answers_from_their_results(
    fake: FakeOpenAI, home: Path
) -> None:
    calls: list[str] = []
    result = await weather_agent(copilot_model(fake, home), calls).run("weather in Paris, Oslo?")
    assert result.output == "Tools said: sunny in Paris | sunny in Oslo"
    assert sorted(calls) == ["Oslo", "Paris"]  # pydantic-ai runs the two calls concurrently
    first, second = fake.requests
    assert first.tool_names == ["get_weather"]
    assert tool_results(second.body) == ["sunny in Paris", "sunny in Oslo"]
    # One session served both requests: the second carries the first's tool calls.
    assert [m["role"] for m in second.messages] == ["system", "user", "assistant", "tool", "tool"]
    assert sessions_left(home) == []


@needs_runtime
async def test_copilot_streams_text_deltas(fake: FakeOpenAI, home: Path) -> None:
    calls: list[str] = []
    agent = weather_agent(copilot_model(fake, home), calls)
    async with agent.run_stream("Tell me something long enough to stream") as run:
        deltas = [delta async for delta in run.stream_text(delta=True, debounce_by=None)]
    assert "".join(deltas) == "Echo: Tell me something long enough to stream"
    assert len(deltas) > 1


@needs_runtime
async def test_copilot_streams_tool_calls_then_the_answer(fake: FakeOpenAI, home: Path) -> None:
    texts: list[str] = []
    tools: list[str] = []

    async def handler(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in stream:
            if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                texts.append(event.part.content)
            elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                texts.append(event.delta.content_delta)
            elif isinstance(event, FunctionToolCallEvent):
                tools.append(event.part.tool_name)

    agent = weather_agent(copilot_model(fake, home), [])
    result = await agent.run("weather in Paris?", event_stream_handler=handler)
    assert result.output == "Tools said: sunny in Paris"
    assert tools == ["get_weather"]
    assert "".join(texts) == "Let me check.Tools said: sunny in Paris"
    assert len(texts) > 2


@needs_runtime
async def test_copilot_sees_the_earlier_conversation(fake: FakeOpenAI, home: Path) -> None:
    agent = weather_agent(copilot_model(fake, home), [])
    first = await agent.run("weather in Paris?")
    await agent.run("Thanks!", message_history=first.all_messages())
    prompt = last_user_text(fake.requests[-1].body)
    assert "User: weather in Paris?" in prompt
    assert "Tool result (call " in prompt
    assert "Assistant: Tools said: sunny in Paris" in prompt
    assert prompt.rstrip().endswith("answer its last message as the assistant.")


@needs_runtime
async def test_a_tool_approved_in_a_later_run_continues_in_a_new_session(
    fake: FakeOpenAI, home: Path
) -> None:
    calls: list[str] = []
    agent = weather_agent(copilot_model(fake, home), calls, requires_approval=True)
    paused = await agent.run("weather in Paris?")
    assert isinstance(paused.output, DeferredToolRequests)
    assert calls == []
    approvals = DeferredToolResults(
        approvals={c.tool_call_id: True for c in paused.output.approvals}
    )
    done = await agent.run(message_history=paused.all_messages(), deferred_tool_results=approvals)
    assert done.output == "Tools said: sunny in Paris"
    assert calls == ["Paris"]
    assert sessions_left(home) == []


@needs_runtime
async def test_a_refused_key_is_an_http_error(fake: FakeOpenAI, home: Path) -> None:
    with pytest.raises(ModelHTTPError) as caught:
        await Agent(copilot_model(fake, home, api_key="sk-wrong")).run("hello")
    assert caught.value.status_code == 401
    assert fake.requests == []
    assert sessions_left(home) == []


@needs_runtime
async def test_concurrent_runs_share_one_runtime(fake: FakeOpenAI, home: Path) -> None:
    agent = Agent(copilot_model(fake, home))
    first, second = await asyncio.gather(agent.run("one"), agent.run("two"))
    assert (first.output, second.output) == ("Echo: one", "Echo: two")


@needs_runtime
async def test_build_model_runs_copilot_on_the_configured_server(
    fake: FakeOpenAI, home: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(home))
    clear_model_cache()
    settings = AngieSettings(
        _env_file=None,
        data_dir=data_dir,
        model="copilot:fake",
        model_base_url=fake.url,
        model_api_key=KEY,
        copilot_cli_path=RUNTIME,
    )
    try:
        result = await Agent(build_model(None, settings)).run("Hello from Angie")
    finally:
        clear_model_cache()
    assert result.output == "Echo: Hello from Angie"
    assert (data_dir / "copilot").is_dir()
