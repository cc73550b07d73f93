"""The UniFi MCP server through MCP (in memory) against the fake controller."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from angie_mcp_unifi.server import build
from angie_mcp_unifi.settings import UnifiSettings
from angie_mcp_unifi.testing import PASSWORD, FakeUnifiController
from fastmcp import Client
from fastmcp.exceptions import ToolError

from angie_mcp_core.server import ALWAYS_ASK

READS = {"status", "list_clients", "list_devices", "list_wlans", "list_port_forwards"}
CHANGES = {
    "block_client",
    "unblock_client",
    "reconnect_client",
    "restart_device",
    "set_wlan_enabled",
}


@pytest.fixture
async def unifi(unifi_settings: UnifiSettings) -> AsyncIterator[Client[Any]]:
    async with Client(build(unifi_settings)) as client:
        yield client


def _structured(result: Any) -> Any:
    assert result.structured_content is not None
    return result.structured_content


async def test_reads_are_read_only_and_every_change_always_asks(unifi: Client[Any]) -> None:
    tools = {t.name: t for t in await unifi.list_tools()}

    assert set(tools) == READS | CHANGES
    for name in READS:
        hints = tools[name].annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.destructive_hint) == (True, False), name
    for name in CHANGES:
        tool = tools[name]
        assert tool.annotations is not None
        flags = (tool.annotations.read_only_hint, tool.annotations.destructive_hint)
        assert flags == (False, True), name
        assert tool.meta is not None, name
        assert tool.meta.items() >= ALWAYS_ASK.items(), name


async def test_status_names_the_controller_and_its_version(unifi: Client[Any]) -> None:
    found = _structured(await unifi.call_tool("status", {}))

    assert (found["configured"], found["upstream_reachable"]) == (True, True)
    assert found["upstream"] == "UniFi Network 9.0.114, site default"


async def test_status_of_an_unconfigured_server_names_the_settings() -> None:
    async with Client(build(UnifiSettings(_env_file=None))) as client:
        found = _structured(await client.call_tool("status", {}))
        with pytest.raises(ToolError, match="ANGIE_UNIFI_CONTROLLER_HOST"):
            await client.call_tool("list_clients", {})

    assert found["configured"] is False
    assert found["missing_settings"] == [
        "ANGIE_UNIFI_CONTROLLER_HOST",
        "ANGIE_UNIFI_USERNAME",
        "ANGIE_UNIFI_PASSWORD",
    ]


async def test_list_clients_is_structured_output(unifi: Client[Any]) -> None:
    result = await unifi.call_tool("list_clients", {"contains": "iphone"})

    [phone] = _structured(result)["result"]
    assert (phone["name"], phone["ip"], phone["online"]) == ("Sam's iPhone", "192.168.1.41", True)


async def test_block_client_through_mcp_reaches_the_controller(
    unifi: Client[Any], fake_unifi: FakeUnifiController
) -> None:
    result = _structured(await unifi.call_tool("block_client", {"client": "Work laptop"}))

    assert (result["action"], result["done"]) == ("block_client", True)
    assert fake_unifi.commands == [{"cmd": "block-sta", "mac": "3c:22:fb:11:22:02"}]


async def test_set_wlan_enabled_through_mcp(
    unifi: Client[Any], fake_unifi: FakeUnifiController
) -> None:
    await unifi.call_tool("set_wlan_enabled", {"wlan": "IoT", "enabled": False})

    assert fake_unifi.commands == [{"wlan": "w3", "enabled": False}]


async def test_an_error_reaches_the_model_as_one_useful_sentence(unifi: Client[Any]) -> None:
    with pytest.raises(ToolError, match="No device named 'Kitchen AP'"):
        await unifi.call_tool("restart_device", {"device": "Kitchen AP"})


async def test_no_answer_carries_the_password_or_a_wifi_passphrase(unifi: Client[Any]) -> None:
    answers = [
        await unifi.call_tool(name, {})
        for name in ("status", "list_clients", "list_devices", "list_wlans", "list_port_forwards")
    ]

    text = json.dumps([a.structured_content for a in answers])
    for secret in (PASSWORD, "correct-horse-battery", "welcome-guests", "iot-things"):
        assert secret not in text


async def test_the_session_survives_a_controller_restart(
    unifi: Client[Any], fake_unifi: FakeUnifiController
) -> None:
    await unifi.call_tool("list_devices", {})
    fake_unifi.go_down()
    with pytest.raises(ToolError, match="restarting"):
        await unifi.call_tool("list_devices", {})
    fake_unifi.come_up()

    devices = _structured(await unifi.call_tool("list_devices", {}))["result"]

    assert len(devices) == 4
    assert fake_unifi.logins == 2
