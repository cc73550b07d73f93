"""The model factory: which model a string becomes, the errors a user sees, and real agent runs
against the fake OpenAI-compatible server on loopback (plain and streamed, with a tool call)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply, last_user_text, tool_results
from openai import AsyncOpenAI, InternalServerError
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.ollama import OllamaModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.models.openrouter import OpenRouterModel

from angie.agents.copilot import CopilotModel
from angie.agents.llm import (
    ModelConfigError,
    ModelNotConfigured,
    build_model,
    clear_model_cache,
    describe_model,
)
from angie.settings import AngieSettings, SettingsError

KEY = "sk-angie-test-0123456789"
# Every variable the factory or pydantic-ai might read a key or server from.
_PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "OPENROUTER_API_KEY",
    "OLLAMA_BASE_URL",
    "OLLAMA_API_KEY",
    "COPILOT_CLI_PATH",
    "COPILOT_GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_TOKEN",
)


@pytest.fixture(autouse=True)
def _no_provider_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    clear_model_cache()
    yield
    clear_model_cache()


def settings(data_dir: Path, **values: Any) -> AngieSettings:
    return AngieSettings(_env_file=None, data_dir=data_dir, **values)


# -- Which model a string becomes -------------------------------------------------------------


def test_openai_uses_openai_api_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = build_model(None, settings(data_dir, model="openai:gpt-4o"))
    assert isinstance(model, OpenAIResponsesModel)
    assert model.model_name == "gpt-4o"
    assert model.base_url == "https://api.openai.com/v1/"


def test_anthropic_uses_anthropic_api_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    model = build_model(None, settings(data_dir, model="anthropic:claude-sonnet-4-5"))
    assert isinstance(model, AnthropicModel)
    assert model.model_name == "claude-sonnet-4-5"


def test_the_agents_own_model_wins_over_angie_model(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    config = settings(data_dir, model="openai:gpt-4o")
    assert isinstance(build_model("anthropic:claude-haiku-4-5", config), AnthropicModel)


def test_openai_with_a_base_url_talks_chat_completions_to_that_server(data_dir: Path) -> None:
    config = settings(data_dir, model="openai:llama3.1", model_base_url="http://127.0.0.1:8081/v1")
    model = build_model(None, config)
    assert isinstance(model, OpenAIChatModel)
    assert model.base_url == "http://127.0.0.1:8081/v1/"


def test_ollama_with_a_base_url_is_an_ollama_model(data_dir: Path) -> None:
    config = settings(data_dir, model="ollama:llama3.1", model_base_url="http://127.0.0.1:11434/v1")
    model = build_model(None, config)
    assert isinstance(model, OllamaModel)
    assert model.base_url == "http://127.0.0.1:11434/v1/"


def test_the_base_url_is_not_used_for_anthropic(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    config = settings(data_dir, model="anthropic:claude-sonnet-4-5", model_base_url="http://x/v1")
    assert "api.anthropic.com" in str(build_model(None, config).base_url)


def test_other_pydantic_ai_providers_pass_through(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    model = build_model("openrouter:anthropic/claude-sonnet-4.5", settings(data_dir))
    assert isinstance(model, OpenRouterModel)


def test_copilot_with_a_base_url_runs_copilot_on_that_server(data_dir: Path) -> None:
    config = settings(data_dir, model="copilot:gpt-4.1", model_base_url="http://127.0.0.1:9/v1")
    model = build_model(None, config)
    assert isinstance(model, CopilotModel)
    assert (model.model_name, model.base_url) == ("gpt-4.1", "http://127.0.0.1:9/v1")


def test_copilot_on_github_needs_only_a_token(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_GITHUB_TOKEN", "gho_test")
    model = build_model(None, settings(data_dir, model="copilot:gpt-4.1"))
    assert isinstance(model, CopilotModel)
    assert model.base_url is None


def test_the_same_configuration_gives_the_same_model(data_dir: Path) -> None:
    config = settings(data_dir, model="openai:m", model_base_url="http://127.0.0.1:1/v1")
    other = settings(data_dir, model="openai:m", model_base_url="http://127.0.0.1:2/v1")
    assert build_model(None, config) is build_model(None, config)
    assert build_model(None, config) is not build_model(None, other)


# -- Errors a user reads ----------------------------------------------------------------------


def test_no_model_says_how_to_configure_one(data_dir: Path) -> None:
    with pytest.raises(ModelNotConfigured) as caught:
        build_model(None, settings(data_dir))
    message = str(caught.value)
    for hint in ("ANGIE_MODEL", "ollama:", "ANGIE_MODEL_BASE_URL", "angie config model"):
        assert hint in message
    assert "\n" not in message
    assert isinstance(caught.value, SettingsError)


def test_an_unknown_provider_lists_the_supported_ones(data_dir: Path) -> None:
    with pytest.raises(ModelConfigError, match="unknown provider 'nope'") as caught:
        build_model("nope:model", settings(data_dir))
    for provider in ("openai:", "anthropic:", "ollama:", "copilot:"):
        assert provider in str(caught.value)


def test_a_model_without_provider_is_refused(data_dir: Path) -> None:
    with pytest.raises(ModelConfigError, match="names no provider"):
        build_model(None, settings(data_dir, model="gpt-4o"))


@pytest.mark.parametrize(
    ("model", "variable"),
    [
        ("openai:gpt-4o", "OPENAI_API_KEY"),
        ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
        ("openrouter:openai/gpt-4o", "OPENROUTER_API_KEY"),
        ("copilot:gpt-4.1", "COPILOT_GITHUB_TOKEN"),
        ("ollama:llama3.1", "ANGIE_MODEL_BASE_URL"),
    ],
)
def test_a_missing_credential_is_named(data_dir: Path, model: str, variable: str) -> None:
    with pytest.raises(ModelConfigError, match=variable) as caught:
        build_model(model, settings(data_dir))
    assert "\n" not in str(caught.value)


def test_a_provider_whose_sdk_is_missing_is_explained(data_dir: Path) -> None:
    with pytest.raises(ModelConfigError, match="needs the SDK of the groq provider"):
        build_model("groq:llama-3.3-70b-versatile", settings(data_dir))


def test_a_missing_copilot_runtime_names_its_setting(data_dir: Path) -> None:
    config = settings(
        data_dir,
        model="copilot:gpt-4.1",
        model_base_url="http://127.0.0.1:9/v1",
        copilot_cli_path=data_dir / "missing" / "copilot",
    )
    with pytest.raises(ModelConfigError, match="ANGIE_COPILOT_CLI_PATH"):
        build_model(None, config)


def test_errors_and_descriptions_never_show_the_key(data_dir: Path) -> None:
    secret_url = f"http://angie:{KEY}@127.0.0.1:11434/v1?key={KEY}"
    config = settings(data_dir, model="nope:x", model_base_url=secret_url, model_api_key=KEY)
    with pytest.raises(ModelConfigError) as caught:
        build_model(None, config)
    assert KEY not in str(caught.value)
    description = describe_model(settings(data_dir, model="openai:llama3.1", **_server(secret_url)))
    assert description == "openai llama3.1 at 127.0.0.1:11434"


def _server(url: str) -> dict[str, Any]:
    return {"model_base_url": url, "model_api_key": KEY}


@pytest.mark.parametrize(
    ("model", "base_url", "expected"),
    [
        (None, None, "no model configured (set ANGIE_MODEL)"),
        ("openai:gpt-4o", None, "openai gpt-4o"),
        ("anthropic:claude-sonnet-4-5", "http://127.0.0.1:1/v1", "anthropic claude-sonnet-4-5"),
        ("ollama:llama3.1", "http://127.0.0.1:11434/v1", "ollama llama3.1 at 127.0.0.1:11434"),
        ("copilot:gpt-4.1", None, "GitHub Copilot gpt-4.1 (via GitHub)"),
        ("copilot:qwen3", "http://gpu.lan:8000/v1", "GitHub Copilot qwen3 (via gpu.lan:8000)"),
    ],
)
def test_describe_model(
    data_dir: Path, model: str | None, base_url: str | None, expected: str
) -> None:
    assert describe_model(settings(data_dir, model=model, model_base_url=base_url)) == expected


# -- Real runs against the fake server --------------------------------------------------------


def weather_script(request: dict[str, Any]) -> Reply:
    """First ask for the weather tool, then answer from what it returned."""
    if results := tool_results(request):
        return Reply.say(f"The tool said: {results[-1]}")
    if "weather" in last_user_text(request):
        return Reply.call("get_weather", {"city": "Paris"})
    return Reply.say("I only talk about the weather.")


def weather_agent(model: Model, calls: list[str]) -> Agent[None, str]:
    agent = Agent(model, instructions="You are Angie, a home assistant.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city right now."""
        calls.append(city)
        return f"sunny in {city}"

    return agent


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(weather_script, api_key=KEY) as server:
        yield server


async def test_an_agent_calls_a_tool_and_answers_from_its_result(
    fake: FakeOpenAI, data_dir: Path
) -> None:
    model = build_model("openai:fake", settings(data_dir, **_server(fake.url)))
    calls: list[str] = []
    # Entering the agent closes the model's HTTP connections at the end, as Angie's runner does.
    async with weather_agent(model, calls) as agent:
        result = await agent.run("What is the weather?")
    assert result.output == "The tool said: sunny in Paris"
    assert calls == ["Paris"]
    first, second = fake.requests
    assert first.tool_names == ["get_weather"]
    assert first.system_text == "You are Angie, a home assistant."
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert tool_results(second.body) == ["sunny in Paris"]


async def test_a_streamed_run_delivers_text_deltas(fake: FakeOpenAI, data_dir: Path) -> None:
    model = build_model("openai:fake", settings(data_dir, **_server(fake.url)))
    calls: list[str] = []
    async with weather_agent(model, calls) as agent, agent.run_stream("And the weather?") as run:
        deltas = [delta async for delta in run.stream_text(delta=True, debounce_by=None)]
    assert "".join(deltas) == "The tool said: sunny in Paris"
    assert len(deltas) > 1
    assert calls == ["Paris"]
    assert all(request.stream for request in fake.requests)


async def test_ollama_runs_against_its_base_url(fake: FakeOpenAI, data_dir: Path) -> None:
    model = build_model("ollama:llama3.1", settings(data_dir, **_server(fake.url)))
    async with weather_agent(model, []) as agent:
        result = await agent.run("Hello")
    assert result.output == "I only talk about the weather."
    assert fake.requests[0].body["model"] == "llama3.1"


async def test_a_rate_limited_request_is_retried(fake: FakeOpenAI, data_dir: Path) -> None:
    fake.fail_next(1, status=429)
    model = build_model("openai:fake", settings(data_dir, **_server(fake.url)))
    async with weather_agent(model, []) as agent:
        result = await agent.run("Hello")
    assert result.output == "I only talk about the weather."
    assert len(fake.requests) == 2


async def test_a_failing_server_surfaces_as_an_http_error(fake: FakeOpenAI, data_dir: Path) -> None:
    fake.fail_next(5, status=500)
    model = build_model("openai:fake", settings(data_dir, **_server(fake.url)))
    async with weather_agent(model, []) as agent:
        with pytest.raises(ModelHTTPError) as caught:
            await agent.run("Hello")
    assert caught.value.status_code == 500


async def test_a_wrong_key_is_refused(fake: FakeOpenAI, data_dir: Path) -> None:
    config = settings(data_dir, model_base_url=fake.url, model_api_key="sk-wrong")
    async with weather_agent(build_model("openai:fake", config), []) as agent:
        with pytest.raises(ModelHTTPError) as caught:
            await agent.run("Hello")
    assert caught.value.status_code == 401
    assert fake.requests == []


async def test_the_fake_lists_its_models(fake: FakeOpenAI) -> None:
    async with AsyncOpenAI(base_url=fake.url, api_key=KEY) as client:
        models = await client.models.list()
    assert [model.id for model in models.data] == ["fake"]


async def test_a_broken_script_fails_the_test_that_uses_it() -> None:
    def broken(request: dict[str, Any]) -> Reply:
        raise LookupError("no answer scripted")

    async def ask(fake: FakeOpenAI) -> None:
        async with AsyncOpenAI(base_url=fake.url, api_key=KEY, max_retries=0) as client:
            with pytest.raises(InternalServerError):
                await client.chat.completions.create(
                    model="fake", messages=[{"role": "user", "content": "Hello"}]
                )

    # The request fails with a 500, and leaving the fake raises the script's own error.
    with pytest.raises(LookupError, match="no answer scripted"), FakeOpenAI(broken) as fake:
        await ask(fake)
