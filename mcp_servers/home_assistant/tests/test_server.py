"""The Home Assistant MCP server through MCP: in memory, over stdio and over HTTP with a token."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2
import pytest
from angie_mcp_home_assistant.__main__ import main
from angie_mcp_home_assistant.server import build
from angie_mcp_home_assistant.settings import HomeAssistantSettings
from angie_mcp_home_assistant.testing import FakeHomeAssistant
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from angie_mcp_core.testing import serve_http

PREFIX = "ANGIE_HOME_ASSISTANT_"
MCP_TOKEN = "home-assistant-mcp-bearer-0123456789"
TOOLS = {
    "status",
    "list_entities",
    "list_areas",
    "get_state",
    "call_service",
    "list_services",
    "get_history",
    "operate_safety_device",
}
WRITES = {"call_service", "operate_safety_device"}


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Neither the developer's environment nor a .env file may configure these servers."""
    for name in os.environ:
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _settings(fake: FakeHomeAssistant, **values: Any) -> HomeAssistantSettings:
    values = {"url": fake.url, "access_token": SecretStr(fake.token), "timeout": 5.0, **values}
    return HomeAssistantSettings(_env_file=None, **values)


@pytest.fixture
async def mcp(fake_home_assistant: FakeHomeAssistant) -> AsyncIterator[Client[Any]]:
    async with Client(build(_settings(fake_home_assistant))) as client:
        yield client


@pytest.fixture
async def unconfigured() -> AsyncIterator[Client[Any]]:
    async with Client(build(HomeAssistantSettings(_env_file=None))) as client:
        yield client


# -- tools ----------------------------------------------------------------------------------


async def test_list_entities_returns_structured_summaries(mcp: Client[Any]) -> None:
    result = await mcp.call_tool("list_entities", {})

    assert result.structured_content is not None
    entities = result.structured_content["result"]
    assert {tuple(sorted(e)) for e in entities} == {
        ("domain", "entity_id", "name", "state", "unit")
    }
    temperature = next(e for e in entities if e["entity_id"] == "sensor.living_room_temperature")
    assert (temperature["state"], temperature["unit"]) == ("21.5", "°C")


async def test_list_entities_filters_by_domain_and_area(mcp: Client[Any]) -> None:
    result = await mcp.call_tool("list_entities", {"domain": "light", "area": "Living Room"})

    assert result.structured_content is not None
    assert [e["entity_id"] for e in result.structured_content["result"]] == ["light.living_room"]


async def test_list_areas_returns_area_ids(mcp: Client[Any]) -> None:
    result = await mcp.call_tool("list_areas", {})

    assert result.structured_content == {"result": ["bedroom", "kitchen", "living_room"]}


async def test_get_state_by_friendly_name_returns_attributes(mcp: Client[Any]) -> None:
    result = await mcp.call_tool("get_state", {"entity": "thermostat"})

    state = result.structured_content
    assert state is not None
    assert (state["entity_id"], state["state"]) == ("climate.thermostat", "heat")
    assert (state["attributes"]["min_temp"], state["attributes"]["max_temp"]) == (7, 35)
    assert isinstance(state["last_changed"], str)


async def test_call_service_turns_lamp_on_in_home_assistant(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    result = await mcp.call_tool(
        "call_service",
        {
            "domain": "light",
            "service": "turn_on",
            "entity_ids": ["Living Room Lamp"],
            "data": {"brightness_pct": 50},
        },
    )

    assert result.structured_content is not None
    assert result.structured_content["service"] == "light.turn_on"
    assert result.structured_content["entity_ids"] == ["light.living_room"]
    [changed] = result.structured_content["changed"]
    assert (changed["state"], changed["attributes"]["brightness"]) == ("on", 128)
    stored = fake_home_assistant.state("light.living_room")
    assert (stored["state"], stored["attributes"]["brightness"]) == ("on", 128)


async def test_list_services_describes_fields_with_ranges(mcp: Client[Any]) -> None:
    result = await mcp.call_tool("list_services", {"domain": "light"})

    assert result.structured_content is not None
    [light] = result.structured_content["result"]
    turn_on = next(s for s in light["services"] if s["service"] == "turn_on")
    field = next(f for f in turn_on["fields"] if f["name"] == "brightness_pct")
    assert (field["min"], field["max"], field["unit"]) == (0, 100, "%")


async def test_get_history_returns_points_oldest_first(mcp: Client[Any]) -> None:
    result = await mcp.call_tool(
        "get_history", {"entity": "sensor.living_room_temperature", "hours": 5}
    )

    history = result.structured_content
    assert history is not None
    assert [p["state"] for p in history["points"]] == ["20.1", "20.8", "21.2", "21.5"]
    assert (history["unit"], history["truncated"]) == ("°C", False)


async def test_status_reports_configured_and_reachable(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    status = (await mcp.call_tool("status", {})).structured_content

    assert status is not None
    assert (status["configured"], status["upstream_reachable"], status["upstream"]) == (
        True,
        True,
        "Home Assistant 2025.11.2 (Home)",
    )
    assert fake_home_assistant.token not in str(status)


async def test_every_tool_has_a_docstring_and_honest_hints(mcp: Client[Any]) -> None:
    tools = await mcp.list_tools()

    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert tool.description, tool.name
        assert tool.annotations is not None, tool.name
        writes = tool.name in WRITES
        assert tool.annotations.read_only_hint is not writes, tool.name
        # Every write can do harm: a service can disarm an alarm or run a script.
        assert tool.annotations.destructive_hint is writes, tool.name
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"


# -- errors ---------------------------------------------------------------------------------


async def test_unknown_entity_error_suggests_the_close_one(mcp: Client[Any]) -> None:
    with pytest.raises(ToolError, match=r"No entity id named 'light\.kitchn'\. Did you mean"):
        await mcp.call_tool("get_state", {"entity": "light.kitchn"})


async def test_history_hours_beyond_30_days_rejected_by_schema(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(ToolError, match="hours"):
        await mcp.call_tool("get_history", {"entity": "sensor.bedroom_humidity", "hours": 1000})

    assert fake_home_assistant.requests == []


async def test_brightness_pct_150_never_reaches_home_assistant(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(ToolError, match="brightness_pct must be between 0 and 100, got 150"):
        await mcp.call_tool(
            "call_service",
            {
                "domain": "light",
                "service": "turn_on",
                "entity_ids": ["light.kitchen"],
                "data": {"brightness_pct": 150},
            },
        )

    assert fake_home_assistant.requests == []


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (401, {}, "rejected Angie's credentials. Set ANGIE_HOME_ASSISTANT_ACCESS_TOKEN"),
        (429, {"Retry-After": "7"}, "rate limiting requests. Try again in 7 seconds"),
        (500, {}, r"failed \(HTTP 500\)"),
    ],
)
async def test_vendor_error_is_a_tool_error_and_the_server_keeps_serving(
    mcp: Client[Any],
    fake_home_assistant: FakeHomeAssistant,
    status: int,
    headers: dict[str, str],
    message: str,
) -> None:
    fake_home_assistant.fail_next(status, headers=headers)

    with pytest.raises(ToolError, match=message) as caught:
        await mcp.call_tool("list_entities", {})

    assert fake_home_assistant.token not in str(caught.value)
    assert (await mcp.call_tool("list_areas", {})).structured_content is not None


async def test_slow_home_assistant_times_out_within_the_configured_timeout(
    fake_home_assistant: FakeHomeAssistant,
) -> None:
    async with Client(build(_settings(fake_home_assistant, timeout=0.3))) as client:
        fake_home_assistant.delay = 60
        answered = fake_home_assistant.answered
        with pytest.raises(ToolError, match=r"did not answer within 0\.3 seconds"):
            await client.call_tool("list_entities", {})
        assert fake_home_assistant.answered == answered
    fake_home_assistant.release()


# -- not configured -------------------------------------------------------------------------


async def test_unconfigured_server_still_lists_its_tools(unconfigured: Client[Any]) -> None:
    assert {t.name for t in await unconfigured.list_tools()} == TOOLS


async def test_unconfigured_status_names_the_missing_env_vars(unconfigured: Client[Any]) -> None:
    status = (await unconfigured.call_tool("status", {})).structured_content

    assert status is not None
    assert (status["configured"], status["upstream_reachable"]) == (False, None)
    assert status["missing_settings"] == [f"{PREFIX}URL", f"{PREFIX}ACCESS_TOKEN"]


async def test_unconfigured_tool_call_says_how_to_configure(unconfigured: Client[Any]) -> None:
    with pytest.raises(
        ToolError, match=f"not configured: set {PREFIX}URL, {PREFIX}ACCESS_TOKEN in the server"
    ):
        await unconfigured.call_tool("get_state", {"entity": "light.kitchen"})


def test_http_without_the_mcp_token_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--transport", "http"]) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"angie-mcp-home-assistant: error: {PREFIX}TOKEN must be set")


# -- real transports ------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        f"{PREFIX}LOG_LEVEL": "WARNING",
        **extra,
    }


def _fake_env(fake: FakeHomeAssistant) -> dict[str, str]:
    return _env(**{f"{PREFIX}URL": fake.url, f"{PREFIX}ACCESS_TOKEN": fake.token})


@pytest.mark.slow
async def test_official_sdk_client_over_stdio_with_python_m(
    fake_home_assistant: FakeHomeAssistant, tmp_path: Any
) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "angie_mcp_home_assistant"],
        env=_fake_env(fake_home_assistant),
        cwd=tmp_path,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("get_state", {"entity": "Kitchen Light"})

    assert {t.name for t in tools.tools} == TOOLS
    assert result.structured_content is not None
    assert (result.structured_content["entity_id"], result.structured_content["state"]) == (
        "light.kitchen",
        "on",
    )


@pytest.fixture(scope="module")
def http_server(
    module_home_assistant: FakeHomeAssistant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {**_fake_env(module_home_assistant), f"{PREFIX}TOKEN": MCP_TOKEN}
    command = [sys.executable, "-m", "angie_mcp_home_assistant"]
    with serve_http(command, env=env, cwd=tmp_path_factory.mktemp("http")) as url:
        yield url


@pytest.mark.slow
def test_http_without_a_bearer_token_is_401(http_server: str) -> None:
    response = httpx.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert response.status_code == 401


@pytest.mark.slow
def test_http_with_the_access_token_as_bearer_is_401(
    http_server: str, module_home_assistant: FakeHomeAssistant
) -> None:
    # Home Assistant's token is not the MCP bearer token: the two must never be interchangeable.
    response = httpx.post(
        http_server,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {module_home_assistant.token}"},
    )

    assert response.status_code == 401


@pytest.mark.slow
async def test_official_sdk_client_over_http_calls_a_service_with_the_token(
    http_server: str, module_home_assistant: FakeHomeAssistant
) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {MCP_TOKEN}"}) as http,
        streamable_http_client(http_server, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool(
            "call_service",
            {"domain": "switch", "service": "turn_on", "entity_ids": ["Coffee Maker"]},
        )

    assert result.structured_content is not None
    assert result.structured_content["entity_ids"] == ["switch.coffee_maker"]
    assert module_home_assistant.state("switch.coffee_maker")["state"] == "on"
