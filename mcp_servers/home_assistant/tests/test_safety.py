"""The safety tier through MCP against the fake: locks, alarms and garage doors only through
operate_safety_device, which always asks; call_service refuses them, whatever the domain."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any, get_args

import pytest
from angie_mcp_home_assistant.safety import ACTIONS, SafetyAction
from angie_mcp_home_assistant.server import build
from angie_mcp_home_assistant.settings import HomeAssistantSettings
from angie_mcp_home_assistant.testing import ALARM_CODE, FakeHomeAssistant
from fastmcp import Client
from fastmcp.exceptions import ToolError
from pydantic import SecretStr

from angie_mcp_core.server import ALWAYS_ASK


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in os.environ:
        if name.startswith("ANGIE_HOME_ASSISTANT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def mcp(fake_home_assistant: FakeHomeAssistant) -> AsyncIterator[Client[Any]]:
    settings = HomeAssistantSettings(
        _env_file=None,
        url=fake_home_assistant.url,
        access_token=SecretStr(fake_home_assistant.token),
        timeout=5.0,
    )
    async with Client(build(settings)) as client:
        yield client


async def _tool(mcp: Client[Any], name: str) -> Any:
    return next(t for t in await mcp.list_tools() if t.name == name)


async def test_call_service_is_destructive_and_reaches_beyond_the_home(mcp: Client[Any]) -> None:
    hints = (await _tool(mcp, "call_service")).annotations

    assert (hints.read_only_hint, hints.destructive_hint, hints.open_world_hint) == (
        False,
        True,
        True,
    )


async def test_operate_safety_device_is_destructive_and_always_asks(mcp: Client[Any]) -> None:
    tool = await _tool(mcp, "operate_safety_device")

    assert (tool.annotations.read_only_hint, tool.annotations.destructive_hint) == (False, True)
    assert tool.meta is not None
    assert tool.meta.items() >= ALWAYS_ASK.items()


def test_every_safety_action_belongs_to_some_domain() -> None:
    assert {a for actions in ACTIONS.values() for a in actions} == set(get_args(SafetyAction))


@pytest.mark.parametrize(
    ("domain", "service"),
    [
        ("lock", "unlock"),
        ("alarm_control_panel", "alarm_disarm"),
        ("cover", "open_cover"),
        ("valve", "open_valve"),
        ("siren", "turn_off"),
    ],
)
async def test_call_service_refuses_a_safety_domain_naming_the_tool(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant, domain: str, service: str
) -> None:
    with pytest.raises(
        ToolError,
        match=rf"^{domain}\.{service} acts on a safety device.*"
        r"use operate_safety_device, which asks the user first\.$",
    ):
        await mcp.call_tool(
            "call_service", {"domain": domain, "service": service, "entity_ids": []}
        )

    assert fake_home_assistant.requests == []


async def test_call_service_refuses_a_garage_door_through_homeassistant_turn_on(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(ToolError, match=r"^cover\.garage_door is a safety device"):
        await mcp.call_tool(
            "call_service",
            {"domain": "homeassistant", "service": "turn_on", "entity_ids": ["Garage Door"]},
        )

    assert fake_home_assistant.calls("POST", "/api/services") == []
    assert fake_home_assistant.state("cover.garage_door")["state"] == "closed"


async def test_operate_safety_device_unlocks_the_front_door(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    result = await mcp.call_tool(
        "operate_safety_device", {"entity": "Front Door", "action": "unlock"}
    )

    assert result.structured_content is not None
    assert result.structured_content["service"] == "lock.unlock"
    assert result.structured_content["entity_ids"] == ["lock.front_door"]
    assert fake_home_assistant.state("lock.front_door")["state"] == "unlocked"


async def test_operate_safety_device_disarms_the_alarm_with_its_code(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    arguments = {"entity": "alarm_control_panel.home_alarm", "action": "disarm"}
    with pytest.raises(ToolError, match="Invalid alarm code provided"):
        await mcp.call_tool("operate_safety_device", arguments)

    await mcp.call_tool("operate_safety_device", {**arguments, "code": ALARM_CODE})

    assert fake_home_assistant.state("alarm_control_panel.home_alarm")["state"] == "disarmed"


async def test_operate_safety_device_sets_the_garage_doors_position(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    await mcp.call_tool(
        "operate_safety_device",
        {"entity": "cover.garage_door", "action": "set_position", "position": 30},
    )

    stored = fake_home_assistant.state("cover.garage_door")
    assert (stored["state"], stored["attributes"]["current_position"]) == ("open", 30)


async def test_operate_safety_device_refuses_an_action_the_device_lacks(
    mcp: Client[Any], fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(
        ToolError, match=r"lock\.front_door is a lock: its actions are lock, unlock, open"
    ):
        await mcp.call_tool("operate_safety_device", {"entity": "Front Door", "action": "disarm"})

    assert fake_home_assistant.calls("POST", "/api/services") == []


async def test_operate_safety_device_refuses_a_light_pointing_to_call_service(
    mcp: Client[Any],
) -> None:
    with pytest.raises(ToolError, match=r"light\.kitchen is not a safety device .*call_service"):
        await mcp.call_tool(
            "operate_safety_device", {"entity": "light.kitchen", "action": "turn_on"}
        )


async def test_a_position_without_set_position_is_refused(mcp: Client[Any]) -> None:
    with pytest.raises(ToolError, match="position only goes with set_position, not open"):
        await mcp.call_tool(
            "operate_safety_device",
            {"entity": "cover.garage_door", "action": "open", "position": 30},
        )
