"""HueClient through the real phue against the fake bridge of angie_mcp_hue.testing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.client import SERVICE, HueClient
from angie_mcp_hue.settings import HueSettings
from angie_mcp_hue.testing import FakeHueBridge
from pydantic import SecretStr

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
)


def _state(fake: FakeHueBridge, light_id: str) -> dict[str, Any]:
    state: dict[str, Any] = fake.lights[light_id]["state"]
    return state


def _writes(fake: FakeHueBridge) -> list[Any]:
    return [r for r in fake.requests if r.method in ("PUT", "POST")]


def _assert_no_secret(err: pytest.ExceptionInfo[ServerToolError], fake: FakeHueBridge) -> None:
    assert fake.username not in str(err.value)


def _client(fake: FakeHueBridge, username: str | None = None, timeout: float = 2) -> HueClient:
    settings = HueSettings(
        _env_file=None,
        bridge_host=fake.host,
        username=SecretStr(username or fake.username),
        timeout=timeout,
    )
    return HueClient(settings)


# Reading --------------------------------------------------------------------------------------


def test_list_lights_reports_percent_kelvin_and_room(client: HueClient) -> None:
    sofa = client.list_lights()[0]

    assert (sofa.id, sofa.name, sofa.on, sofa.room) == ("1", "Sofa lamp", True, "Living room")
    assert sofa.brightness == 80  # bri 203 of 1-254
    assert sofa.color_temperature_k == 2732  # 366 mireds
    assert sofa.color_hex is None


def test_list_lights_reports_colour_as_hex_and_xy(client: HueClient) -> None:
    floor = client.get_light("Floor lamp")

    assert floor.color_xy == (0.5, 0.4)
    assert floor.color_hex is not None
    assert floor.color_hex.startswith("#")
    assert floor.color_temperature_k is None


def test_list_lights_marks_the_unreachable_light(client: HueClient) -> None:
    reachable = {light.name: light.reachable for light in client.list_lights()}

    assert reachable["Reading lamp"] is False
    assert reachable["Sofa lamp"] is True


def test_list_lights_gives_no_brightness_for_a_plug(client: HueClient) -> None:
    plug = client.get_light("Coffee machine")

    assert plug.brightness is None
    assert plug.room == "Kitchen"


def test_list_rooms_returns_rooms_and_zones_but_not_entertainment_areas(
    client: HueClient,
) -> None:
    rooms = {room.name: room for room in client.list_rooms()}

    assert set(rooms) == {"Living room", "Kitchen", "Downstairs"}
    assert rooms["Kitchen"].kind == "room"
    assert rooms["Kitchen"].lights == ["Kitchen ceiling", "Kitchen counter", "Coffee machine"]
    assert rooms["Downstairs"].kind == "zone"
    assert rooms["Living room"].room_class == "Living room"


def test_list_scenes_names_each_scenes_room(client: HueClient) -> None:
    scenes = [(scene.name, scene.room) for scene in client.list_scenes()]

    assert sorted(scenes) == [
        ("Concentrate", "Kitchen"),
        ("Nightlight", "Living room"),
        ("Relax", "Kitchen"),
        ("Relax", "Living room"),
    ]


def test_get_light_is_case_insensitive(client: HueClient) -> None:
    assert client.get_light("  sOFA LAMP ").id == "1"


def test_get_light_accepts_an_id(client: HueClient) -> None:
    assert client.get_light("4").name == "Kitchen ceiling"


def test_get_room_reports_any_on_all_on_and_brightness(client: HueClient) -> None:
    kitchen = client.get_room("KITCHEN")

    assert (kitchen.any_on, kitchen.all_on) == (True, False)
    assert kitchen.brightness == 100  # only the ceiling is on, at bri 254
    assert [light.name for light in kitchen.lights] == [
        "Kitchen ceiling",
        "Kitchen counter",
        "Coffee machine",
    ]


def test_probe_names_the_bridge_model_and_api_version(client: HueClient) -> None:
    identity = client.probe()

    assert "Hue Bridge" in identity
    assert "BSB002" in identity
    assert "1.65.0" in identity


# Writing --------------------------------------------------------------------------------------


def test_set_light_turns_on_and_sets_brightness(client: HueClient, fake_hue: FakeHueBridge) -> None:
    light = client.set_light("floor lamp", on=True, brightness=50)

    assert (_state(fake_hue, "2")["on"], _state(fake_hue, "2")["bri"]) == (True, 128)
    assert (light.on, light.brightness) == (True, 50)


def test_set_light_brightness_alone_turns_an_off_light_on(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    client.set_light("Kitchen counter", brightness=10)

    assert _state(fake_hue, "5")["on"] is True
    assert _state(fake_hue, "5")["bri"] == 26


def test_set_light_off(client: HueClient, fake_hue: FakeHueBridge) -> None:
    light = client.set_light("Sofa lamp", on=False)

    assert _state(fake_hue, "1")["on"] is False
    assert light.on is False


def test_set_light_maps_kelvin_to_mireds(client: HueClient, fake_hue: FakeHueBridge) -> None:
    light = client.set_light("Kitchen ceiling", color_temperature_k=2700)

    assert _state(fake_hue, "4")["ct"] == 370
    assert light.color_temperature_k == 2703


def test_set_light_sends_hex_colour_as_cie_xy(client: HueClient, fake_hue: FakeHueBridge) -> None:
    light = client.set_light("Sofa lamp", color="#ff0000")

    assert _state(fake_hue, "1")["xy"] == [0.6401, 0.33]
    assert _state(fake_hue, "1")["colormode"] == "xy"
    assert light.color_hex == "#FF0000"


def test_set_light_sends_transition_in_deciseconds(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    client.set_light("Sofa lamp", brightness=20, transition_s=1.5)

    assert fake_hue.last_transition == 15


def test_set_room_changes_every_light_of_the_room(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    kitchen = client.set_room("kitchen", brightness=50)

    assert [_state(fake_hue, i)["on"] for i in ("4", "5", "6")] == [True, True, True]
    assert [_state(fake_hue, i)["bri"] for i in ("4", "5")] == [128, 128]
    assert (kitchen.all_on, kitchen.brightness) == (True, 50)


def test_set_room_by_zone_name(client: HueClient, fake_hue: FakeHueBridge) -> None:
    downstairs = client.set_room("Downstairs", on=False)

    assert [_state(fake_hue, i)["on"] for i in ("1", "2", "4")] == [False, False, False]
    assert (downstairs.kind, downstairs.any_on) == ("zone", False)


def test_set_room_leaves_the_unreachable_light_alone(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    client.set_room("Living room", on=True)

    assert _state(fake_hue, "3")["on"] is False


def test_activate_scene_in_a_room_recalls_its_light_states(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    activation = client.activate_scene("relax", room="kitchen")

    assert (activation.scene, activation.room) == ("Relax", "Kitchen")
    assert (_state(fake_hue, "4")["ct"], _state(fake_hue, "4")["bri"]) == (447, 144)
    assert _state(fake_hue, "6")["on"] is True
    assert fake_hue.last_transition == 4  # Hue's default 400 ms


def test_activate_scene_with_a_unique_name_needs_no_room(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    activation = client.activate_scene("Nightlight", transition_s=0)

    assert activation.room == "Living room"
    assert _state(fake_hue, "1")["bri"] == 1
    assert fake_hue.last_transition == 0


def test_activate_scene_named_in_several_rooms_asks_which(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    with pytest.raises(InvalidArgumentError, match="Kitchen, Living room"):
        client.activate_scene("Relax")

    assert _writes(fake_hue) == []


def test_activate_scene_not_in_the_given_room_says_where_it_is(client: HueClient) -> None:
    with pytest.raises(InvalidArgumentError, match="it is in: Living room"):
        client.activate_scene("Nightlight", room="Kitchen")


# Pairing --------------------------------------------------------------------------------------


def test_pair_before_the_link_button_asks_to_press_it(client: HueClient) -> None:
    with pytest.raises(InvalidArgumentError, match="link button"):
        client.pair()


def test_pair_after_the_link_button_returns_a_working_username(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.press_link_button()

    username = client.pair(f"http://{fake_hue.host}/")

    assert username in fake_hue.whitelist
    assert fake_hue.devicetypes[0].startswith("angie#")
    assert len(fake_hue.devicetypes[0]) <= 40
    assert _client(fake_hue, username).get_light("Sofa lamp").on is True


def test_pair_without_a_host_raises_not_configured() -> None:
    client = HueClient(HueSettings(_env_file=None))

    with pytest.raises(NotConfiguredError, match="ANGIE_HUE_BRIDGE_HOST"):
        client.pair()


def test_client_never_touches_phue_config_file_or_home(
    client: HueClient, fake_hue: FakeHueBridge, phue_config: Path
) -> None:
    client.list_lights()
    fake_hue.press_link_button()
    client.pair()

    assert not phue_config.exists()
    assert list((phue_config.parent / "home").iterdir()) == []


# Refusals before the bridge -------------------------------------------------------------------


def test_unknown_light_suggests_the_close_name(client: HueClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'Sofa lamp'"):
        client.get_light("sofa lmap")


def test_unknown_room_suggests_the_close_name(client: HueClient, fake_hue: FakeHueBridge) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'Kitchen'"):
        client.set_room("kitchn", on=True)

    assert _writes(fake_hue) == []


def test_unknown_scene_suggests_the_close_name(client: HueClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'Relax'"):
        client.activate_scene("relx")


@pytest.mark.parametrize(
    "change",
    [
        {"brightness": 101},
        {"brightness": -1},
        {"color_temperature_k": 1500},
        {"color_temperature_k": 7000},
        {"color": "red"},
        {"color": "#000000"},
        {"on": True, "transition_s": -1},
        {"on": True, "transition_s": 7000},
        {},
        {"color": "#ffffff", "color_temperature_k": 3000},
        {"on": False, "brightness": 40},
    ],
    ids=str,
)
def test_out_of_range_changes_are_refused_before_any_request(
    client: HueClient, fake_hue: FakeHueBridge, change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidArgumentError):
        client.set_light("Sofa lamp", **change)
    with pytest.raises(InvalidArgumentError):
        client.set_room("Kitchen", **change)

    assert fake_hue.requests == []


def test_scene_transition_out_of_range_is_refused_before_any_request(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    with pytest.raises(InvalidArgumentError, match="Transition"):
        client.activate_scene("Relax", room="Kitchen", transition_s=-2)

    assert fake_hue.requests == []


def test_set_light_refuses_the_unreachable_light(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    with pytest.raises(UpstreamError, match="unreachable"):
        client.set_light("Reading lamp", on=True)

    assert _writes(fake_hue) == []


def test_set_light_refuses_brightness_on_a_plug(client: HueClient, fake_hue: FakeHueBridge) -> None:
    with pytest.raises(InvalidArgumentError, match="cannot dim"):
        client.set_light("Coffee machine", brightness=50)

    assert _writes(fake_hue) == []


def test_set_light_refuses_colour_on_a_white_light(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    with pytest.raises(InvalidArgumentError, match="cannot show colours"):
        client.set_light("Kitchen ceiling", color="#00ff00")

    assert _writes(fake_hue) == []


def test_missing_configuration_lists_the_env_vars() -> None:
    client = HueClient(HueSettings(_env_file=None))

    with pytest.raises(NotConfiguredError) as err:
        client.list_lights()

    assert "ANGIE_HUE_BRIDGE_HOST" in str(err.value)
    assert "ANGIE_HUE_USERNAME" in str(err.value)


def test_settings_strip_the_scheme_people_paste() -> None:
    settings = HueSettings(_env_file=None, bridge_host="http://192.168.1.20/api")

    assert settings.bridge_host == "192.168.1.20"


# Failures from the bridge ---------------------------------------------------------------------


def test_http_401_raises_unauthorized_naming_the_env_var(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.fail_next(401)

    with pytest.raises(UnauthorizedError, match="ANGIE_HUE_USERNAME") as err:
        client.list_lights()

    _assert_no_secret(err, fake_hue)


def test_unknown_key_raises_unauthorized_naming_the_env_var(fake_hue: FakeHueBridge) -> None:
    client = _client(fake_hue, username="not-a-key-this-bridge-issued")

    with pytest.raises(UnauthorizedError, match="ANGIE_HUE_USERNAME") as err:
        client.list_rooms()

    assert "not-a-key" not in str(err.value)


def test_probe_with_an_unknown_key_raises_unauthorized(fake_hue: FakeHueBridge) -> None:
    # The bridge answers /config for any key, with a public subset and no error.
    client = _client(fake_hue, username="not-a-key-this-bridge-issued")

    with pytest.raises(UnauthorizedError, match="ANGIE_HUE_USERNAME"):
        client.probe()


def test_http_404_raises_upstream_error(client: HueClient, fake_hue: FakeHueBridge) -> None:
    fake_hue.fail_next(404)

    with pytest.raises(UpstreamError) as err:
        client.list_scenes()

    assert err.value.status == 404
    _assert_no_secret(err, fake_hue)


def test_bridge_resource_not_available_raises_upstream_404(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.bridge_error_next(3, "resource, /lights/9, not available")

    with pytest.raises(UpstreamError, match="not available") as err:
        client.list_lights()

    assert err.value.status == 404


def test_bridge_invalid_value_raises_invalid_argument(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.bridge_error_next(7, "invalid value, 999, for parameter, bri")

    with pytest.raises(InvalidArgumentError, match="invalid value"):
        client.set_light("Sofa lamp", brightness=10)


def test_http_429_raises_rate_limited_with_retry_after(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.fail_next(429, headers={"Retry-After": "7"})

    with pytest.raises(RateLimitedError) as err:
        client.get_room("Kitchen")

    assert err.value.retry_after == 7
    _assert_no_secret(err, fake_hue)


def test_http_500_raises_upstream_error(client: HueClient, fake_hue: FakeHueBridge) -> None:
    fake_hue.fail_next(500)

    with pytest.raises(UpstreamError) as err:
        client.set_room("Kitchen", on=True)

    assert err.value.status == 500
    _assert_no_secret(err, fake_hue)


def test_bridge_internal_error_raises_upstream_error(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.bridge_error_next(901, "Internal error, 404")

    with pytest.raises(UpstreamError, match="error type 901"):
        client.probe()


def test_stopped_bridge_raises_upstream_error(client: HueClient, fake_hue: FakeHueBridge) -> None:
    fake_hue.stop()

    with pytest.raises(UpstreamError, match="could not reach it") as err:
        client.list_lights()

    _assert_no_secret(err, fake_hue)


def test_slow_bridge_hits_the_socket_timeout(fake_hue: FakeHueBridge) -> None:
    fake_hue.delay = 60
    client = _client(fake_hue, timeout=0.3)
    answered = fake_hue.answered

    with pytest.raises(UpstreamTimeoutError):
        client.list_lights()

    assert fake_hue.answered == answered
    fake_hue.release()


async def test_slow_bridge_times_out_through_call_blocking(
    client: HueClient, fake_hue: FakeHueBridge
) -> None:
    fake_hue.delay = 60
    answered = fake_hue.answered

    with pytest.raises(UpstreamTimeoutError) as err:
        await call_blocking(SERVICE, 0.3, client.list_lights)

    assert fake_hue.answered == answered
    assert "0.3 seconds" in str(err.value)
    fake_hue.release()  # let the abandoned worker thread finish now
