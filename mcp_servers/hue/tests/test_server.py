"""The Hue MCP server through MCP (in memory, stdio, HTTP) against the fake bridge."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from angie_mcp_hue.__main__ import main
from angie_mcp_hue.server import build
from angie_mcp_hue.settings import HueSettings
from angie_mcp_hue.testing import FakeHueBridge
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from angie_mcp_core.testing import serve_http

TOKEN = "hue-test-bearer-token-0123456789"
READS = {"status", "list_lights", "list_rooms", "list_scenes", "get_light", "get_room"}
WRITES = {"set_light", "set_room", "activate_scene"}


def _state(fake: FakeHueBridge, light_id: str) -> dict[str, Any]:
    state: dict[str, Any] = fake.lights[light_id]["state"]
    return state


def _writes(fake: FakeHueBridge) -> list[Any]:
    return [r for r in fake.requests if r.method in ("PUT", "POST")]


def _structured(result: Any) -> Any:
    assert result.structured_content is not None
    return result.structured_content


@pytest.fixture
async def hue(hue_settings: HueSettings) -> AsyncIterator[Client[Any]]:
    async with Client(build(hue_settings)) as client:
        yield client


@pytest.fixture
async def unconfigured() -> AsyncIterator[Client[Any]]:
    async with Client(build(HueSettings(_env_file=None))) as client:
        yield client


# Reading --------------------------------------------------------------------------------------


async def test_list_lights_returns_every_light_as_structured_output(hue: Client[Any]) -> None:
    lights = _structured(await hue.call_tool("list_lights", {}))["result"]

    assert [light["name"] for light in lights][:2] == ["Sofa lamp", "Floor lamp"]
    assert len(lights) == 6
    assert set(lights[0]) == {
        "id",
        "name",
        "type",
        "on",
        "brightness",
        "color_temperature_k",
        "color_hex",
        "color_xy",
        "reachable",
        "room",
    }


async def test_list_rooms_returns_rooms_and_zones(hue: Client[Any]) -> None:
    rooms = _structured(await hue.call_tool("list_rooms", {}))["result"]

    assert [(room["name"], room["kind"]) for room in rooms] == [
        ("Living room", "room"),
        ("Kitchen", "room"),
        ("Downstairs", "zone"),
    ]


async def test_list_scenes_names_each_scenes_room(hue: Client[Any]) -> None:
    scenes = _structured(await hue.call_tool("list_scenes", {}))["result"]

    assert sorted((scene["name"], scene["room"]) for scene in scenes) == [
        ("Concentrate", "Kitchen"),
        ("Nightlight", "Living room"),
        ("Relax", "Kitchen"),
        ("Relax", "Living room"),
    ]


async def test_get_light_reports_percent_kelvin_and_room(hue: Client[Any]) -> None:
    sofa = _structured(await hue.call_tool("get_light", {"name": "sofa LAMP"}))

    assert (sofa["name"], sofa["on"], sofa["brightness"]) == ("Sofa lamp", True, 80)
    assert (sofa["color_temperature_k"], sofa["room"]) == (2732, "Living room")


async def test_get_room_reports_its_lights_and_brightness(hue: Client[Any]) -> None:
    kitchen = _structured(await hue.call_tool("get_room", {"name": "kitchen"}))

    assert (kitchen["any_on"], kitchen["all_on"], kitchen["brightness"]) == (True, False, 100)
    assert [light["name"] for light in kitchen["lights"]] == [
        "Kitchen ceiling",
        "Kitchen counter",
        "Coffee machine",
    ]


async def test_every_tool_but_status_declares_its_output_schema(hue: Client[Any]) -> None:
    tools = {tool.name: tool for tool in await hue.list_tools()}

    assert tools["get_light"].output_schema is not None
    assert "brightness" in tools["get_light"].output_schema["properties"]
    assert all(tool.output_schema is not None for tool in tools.values())


# Writing --------------------------------------------------------------------------------------


async def test_set_light_switches_on_and_dims_on_the_bridge(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    args = {"name": "Floor lamp", "on": True, "brightness_percent": 50}
    light = _structured(await hue.call_tool("set_light", args))

    assert (_state(fake_hue, "2")["on"], _state(fake_hue, "2")["bri"]) == (True, 128)
    assert (light["on"], light["brightness"]) == (True, 50)


async def test_set_light_sends_hex_colour_and_transition(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    args = {"name": "Sofa lamp", "color_hex": "#ff0000", "transition_seconds": 1.5}
    light = _structured(await hue.call_tool("set_light", args))

    assert _state(fake_hue, "1")["xy"] == [0.6401, 0.33]
    assert fake_hue.last_transition == 15
    assert light["color_hex"] == "#FF0000"


async def test_set_room_changes_every_light_of_the_room(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    args = {"name": "Kitchen", "brightness_percent": 50, "color_temperature_k": 2700}
    kitchen = _structured(await hue.call_tool("set_room", args))

    assert [_state(fake_hue, i)["on"] for i in ("4", "5", "6")] == [True, True, True]
    assert (_state(fake_hue, "4")["bri"], _state(fake_hue, "4")["ct"]) == (128, 370)
    assert (kitchen["all_on"], kitchen["brightness"]) == (True, 50)


async def test_activate_scene_recalls_the_scene_in_the_room(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    activation = _structured(
        await hue.call_tool("activate_scene", {"name": "relax", "room": "kitchen"})
    )

    assert (activation["scene"], activation["room"]) == ("Relax", "Kitchen")
    assert (_state(fake_hue, "4")["ct"], _state(fake_hue, "4")["bri"]) == (447, 144)


# Refusals -------------------------------------------------------------------------------------


async def test_unknown_light_error_suggests_the_close_name(hue: Client[Any]) -> None:
    with pytest.raises(ToolError, match=r"No light named 'sofa lmap'\. Did you mean 'Sofa lamp'"):
        await hue.call_tool("set_light", {"name": "sofa lmap", "on": True})


async def test_scene_in_several_rooms_asks_which_room(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    with pytest.raises(ToolError, match=r"in Kitchen, Living room\); say which room"):
        await hue.call_tool("activate_scene", {"name": "Relax"})

    assert _writes(fake_hue) == []


@pytest.mark.parametrize(
    "change",
    [
        {"brightness_percent": 150},
        {"brightness_percent": -5},
        {"color_temperature_k": 9000},
        {"color_hex": "red"},
        {"transition_seconds": -1, "on": True},
        {"on": True, "flash": True},
    ],
    ids=str,
)
async def test_invalid_argument_is_rejected_by_the_schema_before_the_bridge(
    hue: Client[Any], fake_hue: FakeHueBridge, change: dict[str, Any]
) -> None:
    result = await hue.call_tool("set_light", {"name": "Sofa lamp", **change}, raise_on_error=False)

    assert result.is_error
    assert fake_hue.requests == []


async def test_set_room_with_nothing_to_change_says_what_to_give(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    with pytest.raises(ToolError, match="Nothing to change"):
        await hue.call_tool("set_room", {"name": "Kitchen"})

    assert fake_hue.requests == []


# Failures from the bridge ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            401,
            r"the Hue bridge failed \(HTTP 401\): it rejected Angie's credentials\. "
            r"Set ANGIE_HUE_USERNAME",
        ),
        (429, r"the Hue bridge is rate limiting requests\. Try again in 7 seconds\."),
        (500, r"the Hue bridge failed \(HTTP 500\)"),
    ],
)
async def test_bridge_http_error_is_a_tool_error_and_the_server_keeps_serving(
    hue: Client[Any], fake_hue: FakeHueBridge, status: int, message: str
) -> None:
    fake_hue.fail_next(status, headers={"Retry-After": "7"})

    with pytest.raises(ToolError, match=message) as err:
        await hue.call_tool("list_lights", {})
    after = _structured(await hue.call_tool("get_light", {"name": "Sofa lamp"}))

    assert fake_hue.username not in str(err.value)
    assert after["name"] == "Sofa lamp"


async def test_slow_bridge_times_out_within_the_configured_timeout(fake_hue: FakeHueBridge) -> None:
    settings = HueSettings(
        _env_file=None,
        bridge_host=fake_hue.host,
        username=SecretStr(fake_hue.username),
        timeout=0.3,
    )
    async with Client(build(settings)) as client:
        fake_hue.delay = 60
        answered = fake_hue.answered
        with pytest.raises(ToolError, match=r"did not answer within 0\.3 seconds"):
            await client.call_tool("list_lights", {})
        assert fake_hue.answered == answered
    fake_hue.release()


# Not configured -------------------------------------------------------------------------------


async def test_unconfigured_server_still_lists_its_tools(unconfigured: Client[Any]) -> None:
    names = {tool.name for tool in await unconfigured.list_tools()}

    assert names == READS | WRITES


async def test_unconfigured_status_names_the_missing_env_vars(unconfigured: Client[Any]) -> None:
    status = _structured(await unconfigured.call_tool("status", {}))

    assert status["configured"] is False
    assert status["missing_settings"] == ["ANGIE_HUE_BRIDGE_HOST", "ANGIE_HUE_USERNAME"]
    assert status["upstream_reachable"] is None


async def test_unconfigured_tool_call_says_how_to_configure(unconfigured: Client[Any]) -> None:
    with pytest.raises(
        ToolError, match=r"not configured: set ANGIE_HUE_BRIDGE_HOST, ANGIE_HUE_USERNAME"
    ):
        await unconfigured.call_tool("list_rooms", {})


async def test_status_reports_the_reachable_bridge(
    hue: Client[Any], fake_hue: FakeHueBridge
) -> None:
    status = _structured(await hue.call_tool("status", {}))

    assert (status["server"], status["configured"], status["upstream_reachable"]) == (
        "hue",
        True,
        True,
    )
    assert "BSB002" in status["upstream"]
    assert fake_hue.username not in str(status)


async def test_status_reports_a_key_the_bridge_does_not_know(fake_hue: FakeHueBridge) -> None:
    settings = HueSettings(
        _env_file=None, bridge_host=fake_hue.host, username=SecretStr("not-a-key-it-issued")
    )
    async with Client(build(settings)) as client:
        status = _structured(await client.call_tool("status", {}))

    assert status["upstream_reachable"] is False
    assert "ANGIE_HUE_USERNAME" in status["error"]


# Tool metadata --------------------------------------------------------------------------------


async def test_every_tool_has_a_docstring_and_both_hints(unconfigured: Client[Any]) -> None:
    for tool in await unconfigured.list_tools():
        assert tool.description, tool.name
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is not None, tool.name
        assert tool.annotations.destructive_hint is not None, tool.name


async def test_reads_are_read_only_and_writes_destroy_nothing(unconfigured: Client[Any]) -> None:
    hints = {
        tool.name: (tool.annotations.read_only_hint, tool.annotations.destructive_hint)
        for tool in await unconfigured.list_tools()
        if tool.annotations is not None
    }

    assert {name for name, hint in hints.items() if hint == (True, False)} == READS
    assert {name for name, hint in hints.items() if hint == (False, False)} == WRITES


async def test_absolute_writes_are_idempotent_and_a_scene_recall_is_not(
    unconfigured: Client[Any],
) -> None:
    idempotent = {
        tool.name
        for tool in await unconfigured.list_tools()
        if tool.annotations is not None and tool.annotations.idempotent_hint
    }

    assert idempotent - READS == {"set_light", "set_room"}


async def test_every_argument_is_described(unconfigured: Client[Any]) -> None:
    for tool in await unconfigured.list_tools():
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"


# Pairing --------------------------------------------------------------------------------------


def test_pair_before_the_link_button_says_to_press_it_and_exits_1(
    fake_hue: FakeHueBridge, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["pair", "--host", fake_hue.host])

    out, err = capsys.readouterr()
    assert code == 1
    assert "press the round button on top of the bridge" in err
    assert out == ""


def test_pair_after_the_link_button_prints_the_username_line(
    fake_hue: FakeHueBridge, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_hue.press_link_button()

    code = main(["pair", "--host", f"http://{fake_hue.host}/"])

    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("ANGIE_HUE_USERNAME=")]
    assert code == 0
    assert len(lines) == 1
    assert lines[0].removeprefix("ANGIE_HUE_USERNAME=") in fake_hue.whitelist
    assert f"ANGIE_HUE_BRIDGE_HOST={fake_hue.host}" in out.splitlines()


def test_pair_uses_the_configured_bridge_host(
    fake_hue: FakeHueBridge, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_HUE_BRIDGE_HOST", fake_hue.host)
    fake_hue.press_link_button()

    code = main(["pair"])

    out = capsys.readouterr().out
    assert code == 0
    assert len(fake_hue.whitelist) == 2
    assert "ANGIE_HUE_USERNAME=" in out


def test_pair_without_a_bridge_host_names_the_env_var_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["pair"])

    assert code == 2
    assert "ANGIE_HUE_BRIDGE_HOST" in capsys.readouterr().err


# Over stdio and HTTP --------------------------------------------------------------------------


def _env(home: Path, fake: FakeHueBridge, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ANGIE_HUE_BRIDGE_HOST": fake.host,
        "ANGIE_HUE_USERNAME": fake.username,
        **extra,
    }


async def test_official_sdk_client_over_stdio(fake_hue: FakeHueBridge, tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "angie_mcp_hue"], env=_env(tmp_path, fake_hue)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("set_room", {"name": "Kitchen", "on": False})

    assert {tool.name for tool in tools.tools} == READS | WRITES
    assert result.structured_content is not None
    assert result.structured_content["any_on"] is False
    assert _state(fake_hue, "4")["on"] is False


@pytest.fixture(scope="module")
def http_server(
    shared_fake_hue: FakeHueBridge, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = _env(
        tmp_path_factory.mktemp("home"),
        shared_fake_hue,
        ANGIE_HUE_TOKEN=TOKEN,
        ANGIE_HUE_LOG_LEVEL="WARNING",
    )
    with serve_http([sys.executable, "-m", "angie_mcp_hue"], env=env) as url:
        yield url


_LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def test_http_without_a_bearer_token_is_401(http_server: str) -> None:
    assert httpx.post(http_server, json=_LIST_TOOLS).status_code == 401


def test_http_with_a_wrong_bearer_token_is_401(http_server: str) -> None:
    headers = {"Authorization": "Bearer not-the-token-at-all"}

    assert httpx.post(http_server, json=_LIST_TOOLS, headers=headers).status_code == 401


async def test_official_sdk_client_over_http_with_the_token(http_server: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        streamable_http_client(http_server, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("get_room", {"name": "living room"})

    assert result.structured_content is not None
    assert result.structured_content["name"] == "Living room"
    assert result.structured_content["any_on"] is True
