"""A model server that fails is named in the person's reply, with what to check: nobody
listening (a real closed port), a key it refuses (401) or an error of its own (5xx) from the
fake OpenAI-compatible server, and one that never answers. Never the key itself."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain
from fakes.openai_server import FakeOpenAI
from pydantic import SecretStr
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelTimeoutError

from angie.agents.llm import build_model, model_failure
from angie.settings import AngieSettings
from angie_mcp_core.testing import free_port

KEY = "sk-wrong-0123456789abcdef"


@asynccontextmanager
async def angie_on(
    sqlite_url: str, data_dir: Path, base_url: str, key: str = KEY
) -> AsyncIterator[ApiHarness]:
    """Angie with ``openai:llama3`` on the server at ``base_url``, built as in production."""
    angie = make_api_angie(
        sqlite_url,
        data_dir,
        Brain(),
        model="openai:llama3",
        model_base_url=base_url,
        model_api_key=key,
    )
    angie.services.model_for = lambda name: build_model(name, angie.settings)
    angie.services.factory.model_for = angie.services.model_for
    async with api_harness(angie) as harness:
        yield harness


async def reply_to(api: ApiHarness, text: str) -> dict[str, Any]:
    sam = await api.signup("sam")
    answer = await api.client.post("/api/chat", json={"text": text}, headers=sam.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == "failed", body
    return body


async def test_a_model_server_nobody_runs_is_named_with_what_to_check(
    sqlite_url: str, data_dir: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    async with angie_on(sqlite_url, data_dir, url) as api:
        body = await reply_to(api, "hello?")

    assert body["reply"].endswith(
        f"I could not finish that: the model server at {url} did not answer (connection "
        f"refused); is it running? (ANGIE_MODEL=openai:llama3, ANGIE_MODEL_BASE_URL={url})."
    )


async def test_a_refused_key_is_said_without_the_key(sqlite_url: str, data_dir: Path) -> None:
    with FakeOpenAI(api_key="sk-the-right-one") as llm:
        async with angie_on(sqlite_url, data_dir, llm.url) as api:
            body = await reply_to(api, "hello?")
            task = await api.settled(body["task_id"])

    said = body["reply"]
    assert f"the model server at {llm.url} refused the API key (HTTP 401)" in said
    assert "check ANGIE_MODEL_API_KEY" in said
    assert KEY not in said
    assert task.error is not None
    assert KEY not in task.error


async def test_a_failing_model_server_is_retried_then_named(
    sqlite_url: str, data_dir: Path
) -> None:
    with FakeOpenAI(api_key=KEY) as llm:
        llm.fail_next(100, 502)
        async with angie_on(sqlite_url, data_dir, llm.url) as api:
            body = await reply_to(api, "hello?")
            task = await api.settled(body["task_id"])

    assert f"the model server at {llm.url} failed (HTTP 502); see its logs" in body["reply"]
    assert task.attempts == task.max_attempts  # a server error may pass: Angie tried again


async def test_a_model_server_that_never_answers_is_named(data_dir: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        settings = AngieSettings(
            _env_file=None,
            data_dir=data_dir,
            model="openai:llama3",
            model_base_url=url,
            model_api_key=SecretStr(KEY),
        )
        model = build_model(None, settings)
        with pytest.raises(ModelTimeoutError) as raised:
            await Agent(model).run("hello?", model_settings={"timeout": 0.2})

    said = model_failure(raised.value, model).message
    assert said == (
        f"the model server at {url} did not answer in time; is it running and not overloaded? "
        f"(ANGIE_MODEL=openai:llama3, ANGIE_MODEL_BASE_URL={url})"
    )
