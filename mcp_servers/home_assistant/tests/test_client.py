"""The Home Assistant client through the real homeassistant-api SDK against the fake REST API."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from angie_mcp_home_assistant.client import SERVICE, HomeAssistantClient
from angie_mcp_home_assistant.settings import HomeAssistantSettings
from angie_mcp_home_assistant.testing import FakeHomeAssistant
from pydantic import SecretStr, ValidationError

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
)

MakeClient = Callable[..., HomeAssistantClient]


# -- settings -------------------------------------------------------------------------------


def test_settings_strip_api_suffix_and_trailing_slash() -> None:
    settings = HomeAssistantSettings(_env_file=None, url="http://ha.local:8123/api/")

    assert settings.url == "http://ha.local:8123"


def test_settings_reject_url_without_scheme() -> None:
    with pytest.raises(ValidationError, match="http://"):
        HomeAssistantSettings(_env_file=None, url="ha.local:8123")


def test_settings_read_the_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_HOME_ASSISTANT_URL", "http://ha.local:8123")
    monkeypatch.setenv("ANGIE_HOME_ASSISTANT_ACCESS_TOKEN", "abc")

    settings = HomeAssistantSettings(_env_file=None)

    assert settings.missing() == []
    assert settings.access_token is not None
    assert settings.access_token.get_secret_value() == "abc"


# -- probe ----------------------------------------------------------------------------------


def test_probe_reports_version_and_location(client: HomeAssistantClient) -> None:
    assert client.probe() == "Home Assistant 2025.11.2 (Home)"


# -- entities and areas ---------------------------------------------------------------------


def test_list_entities_returns_every_entity_sorted_by_id(client: HomeAssistantClient) -> None:
    entities = client.list_entities()

    ids = [e.entity_id for e in entities]
    assert ids == sorted(ids)
    assert "sensor.living_room_temperature" in ids
    temperature = next(e for e in entities if e.entity_id == "sensor.living_room_temperature")
    assert (temperature.name, temperature.state, temperature.unit) == (
        "Living Room Temperature",
        "21.5",
        "°C",
    )


def test_list_entities_filters_by_domain_case_insensitively(client: HomeAssistantClient) -> None:
    lights = client.list_entities(domain="LIGHT")

    assert [e.entity_id for e in lights] == ["light.kitchen", "light.living_room"]


def test_list_entities_unknown_domain_suggests_close_one(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'light'"):
        client.list_entities(domain="lihgt")


def test_list_entities_filters_by_area_name_case_insensitively(
    client: HomeAssistantClient,
) -> None:
    in_living_room = client.list_entities(area="living ROOM")

    assert [e.entity_id for e in in_living_room] == [
        "climate.thermostat",
        "light.living_room",
        "sensor.living_room_temperature",
    ]


def test_list_entities_combines_domain_and_area(client: HomeAssistantClient) -> None:
    kitchen_lights = client.list_entities(domain="light", area="Kitchen")

    assert [e.entity_id for e in kitchen_lights] == ["light.kitchen"]


def test_list_entities_asks_home_assistant_for_area_members_by_template(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.areas["kitchen"][1].append("sensor.bedroom_humidity")

    kitchen = client.list_entities(area="kitchen")

    assert "sensor.bedroom_humidity" in [e.entity_id for e in kitchen]
    assert fake_home_assistant.calls("POST", "/api/template") == ["/api/template"] * 2


def test_list_entities_unknown_area_suggests_close_one(client: HomeAssistantClient) -> None:
    with pytest.raises(
        NotFoundError, match=re.escape("No area named 'Kitchn'. Did you mean 'kitchen'")
    ):
        client.list_entities(area="Kitchn")


def test_list_areas_returns_area_ids(client: HomeAssistantClient) -> None:
    assert client.list_areas() == ["bedroom", "kitchen", "living_room"]


def test_get_state_returns_state_with_attributes(client: HomeAssistantClient) -> None:
    thermostat = client.get_state("climate.thermostat")

    assert thermostat.state == "heat"
    assert thermostat.name == "Thermostat"
    assert thermostat.attributes["min_temp"] == 7
    assert thermostat.last_changed.tzinfo is not None


def test_get_state_by_id_makes_one_request(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client.get_state("light.kitchen")

    assert fake_home_assistant.requests == [("GET", "/api/states/light.kitchen")]


def test_get_state_accepts_entity_id_in_any_case(client: HomeAssistantClient) -> None:
    assert client.get_state("Light.KITCHEN").entity_id == "light.kitchen"


def test_get_state_accepts_friendly_name_in_any_case(client: HomeAssistantClient) -> None:
    assert client.get_state("kitchen LIGHT").entity_id == "light.kitchen"


def test_get_state_unknown_entity_id_suggests_close_id(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match=re.escape("Did you mean 'light.kitchen'")):
        client.get_state("light.kitchn")


def test_get_state_unknown_name_suggests_close_name(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'Kitchen Light'"):
        client.get_state("Kitchen Lights")


# -- services -------------------------------------------------------------------------------


def test_call_service_turns_light_on_with_brightness(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    result = client.call_service("light", "turn_on", ["light.living_room"], {"brightness_pct": 50})

    assert result.service == "light.turn_on"
    assert result.entity_ids == ["light.living_room"]
    assert [(s.entity_id, s.state, s.attributes["brightness"]) for s in result.changed] == [
        ("light.living_room", "on", 128)
    ]
    stored = fake_home_assistant.state("light.living_room")
    assert (stored["state"], stored["attributes"]["brightness"]) == ("on", 128)


def test_call_service_turns_light_off(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client.call_service("light", "turn_off", ["light.kitchen"])

    assert fake_home_assistant.state("light.kitchen")["state"] == "off"
    assert fake_home_assistant.state("light.kitchen")["attributes"]["brightness"] is None


def test_call_service_toggles_switch_both_ways(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client.call_service("switch", "toggle", ["switch.coffee_maker"])
    assert fake_home_assistant.state("switch.coffee_maker")["state"] == "on"

    client.call_service("switch", "toggle", ["switch.coffee_maker"])
    assert fake_home_assistant.state("switch.coffee_maker")["state"] == "off"


def test_call_service_sets_rgb_colour_from_service_data(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client.call_service("light", "turn_on", ["Living Room Lamp"], {"rgb_color": [255, 80, 0]})

    attributes = fake_home_assistant.state("light.living_room")["attributes"]
    assert (attributes["rgb_color"], attributes["color_mode"]) == ([255, 80, 0], "rgb")


def test_call_service_on_several_entities_by_id_and_name(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    result = client.call_service("homeassistant", "turn_on", ["light.living_room", "coffee maker"])

    assert result.entity_ids == ["light.living_room", "switch.coffee_maker"]
    assert sorted(s.entity_id for s in result.changed) == result.entity_ids
    assert fake_home_assistant.state("switch.coffee_maker")["state"] == "on"


def test_call_service_returns_nothing_changed_when_already_in_that_state(
    client: HomeAssistantClient,
) -> None:
    result = client.call_service("switch", "turn_off", ["switch.coffee_maker"])

    assert result.changed == []


def test_call_service_accepts_domain_and_service_in_any_case(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client.call_service("Switch", "TURN_ON", ["switch.coffee_maker"])

    assert fake_home_assistant.calls("POST", "/api/services") == ["/api/services/switch/turn_on"]


def test_call_service_sets_thermostat_temperature(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client.call_service("climate", "set_temperature", ["climate.thermostat"], {"temperature": 19.5})

    assert fake_home_assistant.state("climate.thermostat")["attributes"]["temperature"] == 19.5


def test_call_service_unknown_domain_suggests_close_one(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'light'"):
        client.call_service("lights", "turn_on", ["light.kitchen"])


def test_call_service_unknown_service_lists_the_domains_services(
    client: HomeAssistantClient,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.call_service("light", "explode", ["light.kitchen"])

    assert "Known light services: 'toggle', 'turn_off', 'turn_on'" in str(caught.value)


def test_call_service_misspelt_service_suggests_close_one(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'turn_on'"):
        client.call_service("light", "turnon", ["light.kitchen"])


def test_call_service_unknown_entity_suggests_close_one_without_calling(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(NotFoundError, match=re.escape("Did you mean 'light.living_room'")):
        client.call_service("light", "turn_on", ["light.livingroom"])

    assert fake_home_assistant.calls("POST") == []


def test_call_service_wrong_data_type_is_invalid_argument_from_home_assistant(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(InvalidArgumentError, match=r"expected float .*brightness_pct"):
        client.call_service("light", "turn_on", ["light.kitchen"], {"brightness_pct": "bright"})

    assert fake_home_assistant.calls("POST") == ["/api/services/light/turn_on"]
    assert fake_home_assistant.state("light.kitchen")["attributes"]["brightness"] == 200


def test_call_service_unknown_data_key_is_invalid_argument(client: HomeAssistantClient) -> None:
    with pytest.raises(InvalidArgumentError, match="extra keys not allowed"):
        client.call_service("switch", "turn_on", ["switch.coffee_maker"], {"speed": 3})


@pytest.mark.parametrize(
    "data",
    [
        {"brightness_pct": 150},
        {"brightness": -1},
        {"transition": -5},
        {"rgb_color": [255, 0, 300]},
        {"rgb_color": [255, 0]},
    ],
)
def test_call_service_out_of_range_data_never_reaches_home_assistant(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant, data: dict[str, object]
) -> None:
    with pytest.raises(InvalidArgumentError, match=next(iter(data))):
        client.call_service("light", "turn_on", ["light.kitchen"], data)

    assert fake_home_assistant.requests == []


def test_call_service_temperature_outside_thermostat_range_is_refused_before_the_call(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(InvalidArgumentError, match="range 7 to 35"):
        client.call_service("climate", "set_temperature", ["thermostat"], {"temperature": 50})

    assert fake_home_assistant.calls("POST") == []


def test_call_service_refuses_entity_the_service_would_ignore(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    with pytest.raises(InvalidArgumentError, match="only acts on light entities"):
        client.call_service("light", "turn_on", ["switch.coffee_maker"])

    assert fake_home_assistant.calls("POST") == []


def test_call_service_refuses_entity_id_inside_data(client: HomeAssistantClient) -> None:
    with pytest.raises(InvalidArgumentError, match="entity_ids"):
        client.call_service("light", "turn_on", data={"entity_id": "light.kitchen"})


def test_list_services_describes_fields_with_ranges(client: HomeAssistantClient) -> None:
    [light] = client.list_services("Light")

    turn_on = next(s for s in light.services if s.service == "turn_on")
    fields = {f.name: f for f in turn_on.fields}
    assert turn_on.target_domains == ["light"]
    assert (fields["brightness_pct"].min, fields["brightness_pct"].max) == (0, 100)
    assert fields["brightness_pct"].unit == "%"
    # Fields inside a collapsed section are listed too.
    assert {"brightness", "rgb_color", "color_temp_kelvin"} <= set(fields)


def test_list_services_shows_select_options(client: HomeAssistantClient) -> None:
    [climate] = client.list_services("climate")

    mode = next(s for s in climate.services if s.service == "set_hvac_mode").fields[0]
    assert (mode.name, mode.required, mode.options) == (
        "hvac_mode",
        True,
        ["off", "heat", "cool", "auto"],
    )


def test_list_services_without_domain_lists_every_domain(client: HomeAssistantClient) -> None:
    domains = client.list_services()

    assert [d.domain for d in domains] == [
        "alarm_control_panel",
        "climate",
        "cover",
        "homeassistant",
        "light",
        "lock",
        "switch",
    ]


def test_list_services_unknown_domain_suggests_close_one(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'climate'"):
        client.list_services("climat")


# -- history --------------------------------------------------------------------------------


def test_get_history_returns_states_of_the_last_hours(client: HomeAssistantClient) -> None:
    history = client.get_history("sensor.living_room_temperature", hours=5)

    # 20.1 was in effect when the window opened; then three changes.
    assert [p.state for p in history.points] == ["20.1", "20.8", "21.2", "21.5"]
    assert [p.at for p in history.points] == sorted(p.at for p in history.points)
    assert (history.unit, history.hours, history.truncated) == ("°C", 5, False)


def test_get_history_records_changes_made_by_service_calls(client: HomeAssistantClient) -> None:
    client.call_service("switch", "turn_on", ["switch.coffee_maker"])
    client.call_service("switch", "turn_off", ["switch.coffee_maker"])

    history = client.get_history("Coffee Maker", hours=1)

    assert [p.state for p in history.points] == ["off", "on", "off"]


def test_get_history_keeps_the_newest_points(client: HomeAssistantClient) -> None:
    history = client.get_history("sensor.living_room_temperature", hours=48, max_points=2)

    assert [p.state for p in history.points] == ["21.2", "21.5"]
    assert history.truncated


@pytest.mark.parametrize(("hours", "max_points"), [(0, 10), (-1, 10), (721, 10), (1, 0)])
def test_get_history_out_of_range_arguments_never_reach_home_assistant(
    client: HomeAssistantClient,
    fake_home_assistant: FakeHomeAssistant,
    hours: float,
    max_points: int,
) -> None:
    with pytest.raises(InvalidArgumentError):
        client.get_history("sensor.bedroom_humidity", hours=hours, max_points=max_points)

    assert fake_home_assistant.requests == []


def test_get_history_unknown_entity_suggests_close_one(client: HomeAssistantClient) -> None:
    with pytest.raises(NotFoundError, match=re.escape("Did you mean 'sensor.bedroom_humidity'")):
        client.get_history("sensor.bedroom_humidty")


# -- failures -------------------------------------------------------------------------------


def test_rejected_token_is_unauthorized_naming_the_env_var(make_client: MakeClient) -> None:
    client = make_client(access_token=SecretStr("wrong-token-xyz"))

    with pytest.raises(UnauthorizedError, match="ANGIE_HOME_ASSISTANT_ACCESS_TOKEN") as caught:
        client.list_entities()

    assert "wrong-token-xyz" not in str(caught.value)


def test_injected_401_is_unauthorized_without_the_token(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.fail_next(401)

    with pytest.raises(UnauthorizedError) as caught:
        client.probe()

    assert caught.value.status == 401
    assert fake_home_assistant.token not in str(caught.value)


def test_404_from_home_assistant_is_upstream_error(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.fail_next(404)

    with pytest.raises(UpstreamError) as caught:
        client.list_entities()

    assert caught.value.status == 404


def test_429_is_rate_limited_with_retry_after_and_no_retry(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.fail_next(429, headers={"Retry-After": "7"})

    with pytest.raises(RateLimitedError, match="Try again in 7 seconds") as caught:
        client.list_services()

    assert caught.value.retry_after == 7
    assert len(fake_home_assistant.requests) == 1


def test_500_is_upstream_error_and_fails_fast(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.fail_next(500, times=3)

    with pytest.raises(UpstreamError, match=r"HTTP 500") as caught:
        client.get_state("light.kitchen")

    assert caught.value.status == 500
    assert len(fake_home_assistant.requests) == 1
    assert fake_home_assistant.token not in str(caught.value)


def test_connection_refused_is_upstream_error(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.stop()

    with pytest.raises(UpstreamError, match="could not connect") as caught:
        client.probe()

    assert fake_home_assistant.token not in str(caught.value)


def test_missing_configuration_lists_the_env_vars_without_a_request(
    monkeypatch: pytest.MonkeyPatch, fake_home_assistant: FakeHomeAssistant
) -> None:
    monkeypatch.delenv("ANGIE_HOME_ASSISTANT_URL", raising=False)
    monkeypatch.delenv("ANGIE_HOME_ASSISTANT_ACCESS_TOKEN", raising=False)

    with (
        HomeAssistantClient(HomeAssistantSettings(_env_file=None)) as client,
        pytest.raises(NotConfiguredError) as caught,
    ):
        client.list_entities()

    message = str(caught.value)
    assert "ANGIE_HOME_ASSISTANT_URL" in message
    assert "ANGIE_HOME_ASSISTANT_ACCESS_TOKEN" in message
    assert fake_home_assistant.requests == []


def test_base_url_overrides_a_missing_url_setting(
    monkeypatch: pytest.MonkeyPatch, fake_home_assistant: FakeHomeAssistant
) -> None:
    monkeypatch.delenv("ANGIE_HOME_ASSISTANT_URL", raising=False)
    settings = HomeAssistantSettings(
        _env_file=None, access_token=SecretStr(fake_home_assistant.token)
    )

    with HomeAssistantClient(settings, base_url=f"{fake_home_assistant.url}/api") as client:
        assert client.probe().startswith("Home Assistant ")


async def test_slow_home_assistant_times_out_in_call_blocking(
    client: HomeAssistantClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    fake_home_assistant.delay = 60
    answered = fake_home_assistant.answered

    with pytest.raises(UpstreamTimeoutError, match=re.escape("0.3 seconds")):
        await call_blocking(SERVICE, 0.3, client.list_entities)

    assert fake_home_assistant.answered == answered
    fake_home_assistant.release()


def test_slow_home_assistant_times_out_at_the_settings_timeout(
    make_client: MakeClient, fake_home_assistant: FakeHomeAssistant
) -> None:
    client = make_client(timeout=0.3)
    fake_home_assistant.delay = 60
    answered = fake_home_assistant.answered

    with pytest.raises(UpstreamTimeoutError, match=re.escape("0.3 seconds")):
        client.probe()

    assert fake_home_assistant.answered == answered
    fake_home_assistant.release()
