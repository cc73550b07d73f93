"""A fake Home Assistant REST API on 127.0.0.1 that the real homeassistant-api SDK talks to.

Angie's own tests and demos drive the real Home Assistant server against it.

It keeps a small home in memory (lights, a switch, sensors, a thermostat in three areas, and a
front door lock, an alarm panel and a garage door, the safety tier, in none),
changes it when services are called, records every change for /api/history, and can be told
to fail or to be slow. Areas have no REST endpoint in Home Assistant; the fake's POST
/api/template evaluates exactly ``{{ areas() }}`` and ``{{ area_entities('<id or name>') }}``,
rendering lists as Python literals as the real REST API does.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from angie_mcp_core.fakes import FakeService, Reply, Request

__all__ = ("ALARM_CODE", "SERVICES", "TOKEN", "FakeHomeAssistant", "demo")

TOKEN = "fake-long-lived-token-3f9a"

Json = dict[str, Any]
_TEXT_PLAIN = "text/plain; charset=utf-8"

_NUMBER = "number"
_RGB = "rgb"
_TEXT = "text"

# Field name -> (type, min, max) the fake validates like Home Assistant's voluptuous schemas.
_FIELD_TYPES: dict[str, tuple[str, float | None, float | None]] = {
    "transition": (_NUMBER, 0, 300),
    "brightness_pct": (_NUMBER, 0, 100),
    "brightness": (_NUMBER, 0, 255),
    "rgb_color": (_RGB, None, None),
    "color_temp_kelvin": (_NUMBER, 2000, 6500),
    "temperature": (_NUMBER, None, None),
    "hvac_mode": (_TEXT, None, None),
    "position": (_NUMBER, 0, 100),
    "code": (_TEXT, None, None),
}

_LIGHT_FIELDS: Json = {
    "transition": {
        "name": "Transition",
        "description": "Duration it takes to get to next state.",
        "selector": {"number": {"min": 0, "max": 300, "unit_of_measurement": "seconds"}},
    },
    "brightness_pct": {
        "name": "Brightness",
        "description": "Number indicating the percentage of full brightness.",
        "example": 47,
        "selector": {"number": {"min": 0, "max": 100, "unit_of_measurement": "%"}},
    },
    "advanced_fields": {
        "collapsed": True,
        "fields": {
            "brightness": {
                "name": "Brightness value",
                "description": "Number indicating brightness, where 0 turns off and 255 is max.",
                "selector": {"number": {"min": 0, "max": 255}},
            },
            "rgb_color": {
                "name": "Color",
                "description": "The color in RGB format.",
                "example": "[255, 100, 100]",
                "selector": {"color_rgb": {}},
            },
            "color_temp_kelvin": {
                "name": "Color temperature",
                "description": "Color temperature in Kelvin.",
                "selector": {"color_temp": {"unit": "kelvin", "min": 2000, "max": 6500}},
            },
        },
    },
}

_HVAC_MODE: Json = {
    "name": "HVAC mode",
    "description": "HVAC operation mode.",
    "selector": {"select": {"options": ["off", "heat", "cool", "auto"]}},
}


def _target(domain: str) -> Json:
    return {"entity": [{"domain": [domain]}]}


_CODE: Json = {
    "name": "Code",
    "description": "Code used to arm, disarm, lock or unlock.",
    "example": "1234",
    "selector": {"text": {}},
}
#: The alarm panel's code; the fake's alarm refuses to disarm without it, as a real one does.
ALARM_CODE = "4711"


def _action(title: str, domain: str, fields: Json | None = None) -> Json:
    return {
        "name": title,
        "description": f"{title}.",
        "fields": fields or {},
        "target": _target(domain),
    }


SERVICES: dict[str, dict[str, Json]] = {
    "light": {
        "turn_on": {
            "name": "Turn on",
            "description": "Turns on one or more lights and adjusts their properties.",
            "fields": _LIGHT_FIELDS,
            "target": _target("light"),
        },
        "turn_off": {
            "name": "Turn off",
            "description": "Turns off one or more lights.",
            "fields": {"transition": _LIGHT_FIELDS["transition"]},
            "target": _target("light"),
        },
        "toggle": {
            "name": "Toggle",
            "description": "Toggles one or more lights, from on to off, or off to on.",
            "fields": _LIGHT_FIELDS,
            "target": _target("light"),
        },
    },
    "switch": {
        name: {
            "name": title,
            "description": f"{title}s a switch.",
            "fields": {},
            "target": _target("switch"),
        }
        for name, title in (("turn_on", "Turn on"), ("turn_off", "Turn off"), ("toggle", "Toggle"))
    },
    "climate": {
        "set_temperature": {
            "name": "Set target temperature",
            "description": "Sets the temperature setpoint.",
            "fields": {
                "temperature": {
                    "name": "Target temperature",
                    "description": "The temperature setpoint.",
                    "selector": {"number": {"min": 0, "max": 250, "step": 0.1, "mode": "box"}},
                },
                "hvac_mode": _HVAC_MODE,
            },
            "target": _target("climate"),
        },
        "set_hvac_mode": {
            "name": "Set HVAC mode",
            "description": "Sets HVAC operation mode.",
            "fields": {"hvac_mode": {**_HVAC_MODE, "required": True}},
            "target": _target("climate"),
        },
        "turn_on": {"name": "Turn on", "description": "Turns climate device on.", "fields": {}},
        "turn_off": {"name": "Turn off", "description": "Turns climate device off.", "fields": {}},
    },
    "lock": {
        service: _action(title, "lock", {"code": _CODE})
        for service, title in (("lock", "Lock"), ("unlock", "Unlock"), ("open", "Open"))
    },
    "alarm_control_panel": {
        f"alarm_{mode}": _action(title, "alarm_control_panel", {"code": _CODE})
        for mode, title in (
            ("arm_home", "Arm home"),
            ("arm_away", "Arm away"),
            ("arm_night", "Arm night"),
            ("arm_vacation", "Arm vacation"),
            ("disarm", "Disarm"),
            ("trigger", "Trigger"),
        )
    },
    "cover": {
        "open_cover": _action("Open", "cover"),
        "close_cover": _action("Close", "cover"),
        "stop_cover": _action("Stop", "cover"),
        "set_cover_position": _action(
            "Set position",
            "cover",
            {
                "position": {
                    "name": "Position",
                    "description": "Target position.",
                    "required": True,
                    "selector": {"number": {"min": 0, "max": 100, "unit_of_measurement": "%"}},
                }
            },
        ),
    },
    "homeassistant": {
        "turn_on": {
            "name": "Generic turn on",
            "description": "Generic action to turn devices on under any domain.",
            "fields": {},
            "target": {"entity": {}},
        },
        "turn_off": {
            "name": "Generic turn off",
            "description": "Generic action to turn devices off under any domain.",
            "fields": {},
            "target": {"entity": {}},
        },
        "check_config": {
            "name": "Check configuration",
            "description": "Checks the Home Assistant YAML-configuration files for errors.",
            "fields": {},
        },
    },
}


def _field_names(fields: Json) -> set[str]:
    names: set[str] = set()
    for name, spec in fields.items():
        names |= set(spec["fields"]) if "fields" in spec else {name}
    return names


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class BadRequest(Exception):
    """A service or template call Home Assistant would answer with 400."""


class FakeHomeAssistant(FakeService):
    """The REST API of one small home; see the module docstring."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.entities: dict[str, Json] = {}
        self.history: dict[str, list[Json]] = {}
        self.areas: dict[str, tuple[str, list[str]]] = {
            "kitchen": ("Kitchen", ["light.kitchen", "switch.coffee_maker"]),
            "living_room": (
                "Living Room",
                ["light.living_room", "sensor.living_room_temperature", "climate.thermostat"],
            ),
            "bedroom": ("Bedroom", ["sensor.bedroom_humidity"]),
        }
        self._seed()

    # -- control --------------------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path with query) of every request that reached the server, in order."""
        return [(r.method, r.target) for r in self.log]

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Json | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and headers, JSON body)."""
        payload = body or {"message": f"Injected HTTP {status}"}
        self.inject(Reply.json(status, payload, headers), times=times)

    def state(self, entity_id: str) -> Json:
        with self.lock:
            return copy.deepcopy(self.entities[entity_id])

    def calls(self, method: str, prefix: str = "/api/") -> list[str]:
        """Paths of the requests with ``method`` whose path starts with ``prefix``."""
        return [p for m, p in self.requests if m == method and p.startswith(prefix)]

    # -- the home ---------------------------------------------------------------------------

    def _seed(self) -> None:
        now = datetime.now(UTC)
        light_modes = {"supported_color_modes": ["brightness"], "supported_features": 32}
        lamp_modes = {"supported_color_modes": ["color_temp", "rgb"], "supported_features": 32}
        temperature = {
            "friendly_name": "Living Room Temperature",
            "unit_of_measurement": "°C",
            "device_class": "temperature",
            "state_class": "measurement",
        }
        for hours_ago, value in (
            (30, "19.2"),
            (6, "20.1"),
            (4, "20.8"),
            (2, "21.2"),
            (0.5, "21.5"),
        ):
            self._set(
                "sensor.living_room_temperature",
                value,
                temperature,
                now - timedelta(hours=hours_ago),
            )
        humidity = {
            "friendly_name": "Bedroom Humidity",
            "unit_of_measurement": "%",
            "device_class": "humidity",
            "state_class": "measurement",
        }
        for hours_ago, value in ((5, "52"), (1, "48")):
            self._set("sensor.bedroom_humidity", value, humidity, now - timedelta(hours=hours_ago))
        self._set(
            "light.kitchen",
            "on",
            {
                "friendly_name": "Kitchen Light",
                "brightness": 200,
                "color_mode": "brightness",
                **light_modes,
            },
            now - timedelta(hours=3),
        )
        self._set(
            "light.living_room",
            "off",
            {
                "friendly_name": "Living Room Lamp",
                "brightness": None,
                "color_mode": None,
                **lamp_modes,
            },
            now - timedelta(hours=8),
        )
        self._set(
            "switch.coffee_maker",
            "off",
            {"friendly_name": "Coffee Maker"},
            now - timedelta(hours=10),
        )
        self._set(
            "climate.thermostat",
            "heat",
            {
                "friendly_name": "Thermostat",
                "hvac_modes": ["off", "heat", "cool", "auto"],
                "min_temp": 7,
                "max_temp": 35,
                "current_temperature": 21.5,
                "temperature": 21,
                "supported_features": 385,
            },
            now - timedelta(hours=12),
        )
        self._set("lock.front_door", "locked", {"friendly_name": "Front Door"})
        self._set(
            "alarm_control_panel.home_alarm",
            "armed_away",
            {"friendly_name": "Home Alarm", "code_format": "number", "code_arm_required": False},
        )
        self._set(
            "cover.garage_door",
            "closed",
            {"friendly_name": "Garage Door", "device_class": "garage", "current_position": 0},
        )

    def _set(
        self, entity_id: str, state: str, attributes: Json, at: datetime | None = None
    ) -> bool:
        """Set a state like Home Assistant's state machine; True when anything changed."""
        at = at or datetime.now(UTC)
        old = self.entities.get(entity_id)
        if old is not None and old["state"] == state and old["attributes"] == attributes:
            return False
        changed_at = old["last_changed"] if old is not None and old["state"] == state else _iso(at)
        new = {
            "entity_id": entity_id,
            "state": state,
            "attributes": copy.deepcopy(attributes),
            "last_changed": changed_at,
            "last_reported": _iso(at),
            "last_updated": _iso(at),
            "context": {"id": uuid.uuid4().hex, "parent_id": None, "user_id": None},
        }
        self.entities[entity_id] = new
        self.history.setdefault(entity_id, []).append(copy.deepcopy(new))
        return True

    # -- HTTP -------------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, b"401: Unauthorized", {"Content-Type": _TEXT_PLAIN})
        try:
            return self._route(request)
        except BadRequest as err:
            return Reply.json(400, {"message": str(err)})

    def _route(self, request: Request) -> Reply:
        method, body = request.method, request.body
        path = unquote(request.path)
        query = parse_qs(urlsplit(request.target).query, keep_blank_values=True)
        if method == "GET" and path == "/api/":
            return Reply.json(200, {"message": "API running."})
        if method == "GET" and path == "/api/config":
            return Reply.json(200, _CONFIG)
        if method == "GET" and path == "/api/states":
            return Reply.json(200, list(self.entities.values()))
        if method == "GET" and path.startswith("/api/states/"):
            found = self.entities.get(path.removeprefix("/api/states/"))
            if found is None:
                return Reply.json(404, {"message": "Entity not found."})
            return Reply.json(200, found)
        if method == "GET" and path == "/api/services":
            return Reply.json(200, [{"domain": d, "services": s} for d, s in SERVICES.items()])
        if method == "POST" and path.startswith("/api/services/"):
            domain, _, service = path.removeprefix("/api/services/").partition("/")
            if "return_response" in query:
                raise BadRequest("Service does not support responses. Remove return_response.")
            return Reply.json(200, self._call(domain, service, _body_json(body)))
        if method == "GET" and path.startswith("/api/history/period"):
            return Reply.json(200, self._history(path, query))
        if method == "POST" and path == "/api/template":
            text = self._render(str(_body_json(body).get("template", "")))
            return Reply(200, text.encode(), {"Content-Type": _TEXT_PLAIN})
        return Reply(404, b"404: Not Found", {"Content-Type": _TEXT_PLAIN})

    # -- services ---------------------------------------------------------------------------

    def _call(self, domain: str, service: str, data: Json) -> list[Json]:
        spec = SERVICES.get(domain, {}).get(service)
        if spec is None:
            raise BadRequest(f"Service {domain}.{service} not found.")
        allowed = _field_names(spec["fields"]) | {"entity_id"}
        for key, value in data.items():
            if key not in allowed:
                raise BadRequest(f"extra keys not allowed @ data['{key}']")
            if key in _FIELD_TYPES:
                _validate(key, value)
        targets = data.get("entity_id", [])
        targets = [targets] if isinstance(targets, str) else list(targets)
        changed: list[str] = []
        for entity_id in targets:
            if entity_id not in self.entities:
                continue  # Home Assistant ignores unknown entities with a warning.
            if self._apply(domain, service, entity_id, data):
                changed.append(entity_id)
        return [self.entities[e] for e in changed]

    def _apply(self, domain: str, service: str, entity_id: str, data: Json) -> bool:
        own = entity_id.split(".", 1)[0]
        if domain == "homeassistant":
            domain = own
        if domain != own:
            return False
        current = self.entities[entity_id]
        attributes = copy.deepcopy(current["attributes"])
        is_on = current["state"] != "off"
        if service == "toggle":
            service = "turn_off" if is_on else "turn_on"
        if domain == "light":
            return self._light(entity_id, service, attributes, data)
        if domain == "switch":
            return self._set(entity_id, "on" if service == "turn_on" else "off", attributes)
        if domain == "climate":
            return self._climate(entity_id, service, attributes, data)
        if domain == "lock":
            state = {"lock": "locked", "unlock": "unlocked", "open": "open"}.get(service)
            return state is not None and self._set(entity_id, state, attributes)
        if domain == "alarm_control_panel":
            return self._alarm(entity_id, service, attributes, data)
        if domain == "cover":
            return self._cover(entity_id, service, attributes, data)
        return False

    def _alarm(self, entity_id: str, service: str, attributes: Json, data: Json) -> bool:
        if service == "alarm_disarm" and data.get("code") != ALARM_CODE:
            raise BadRequest("Invalid alarm code provided")
        state = {"alarm_disarm": "disarmed", "alarm_trigger": "triggered"}.get(
            service, service.replace("alarm_arm_", "armed_")
        )
        return self._set(entity_id, state, attributes)

    def _cover(self, entity_id: str, service: str, attributes: Json, data: Json) -> bool:
        position = int(data["position"] if "position" in data else attributes["current_position"])
        if service in ("open_cover", "close_cover"):
            position = 100 if service == "open_cover" else 0
        attributes["current_position"] = position
        return self._set(entity_id, "open" if position > 0 else "closed", attributes)

    def _light(self, entity_id: str, service: str, attributes: Json, data: Json) -> bool:
        brightness = attributes.get("brightness") or 255
        if "brightness_pct" in data:
            brightness = round(255 * data["brightness_pct"] / 100)
        if "brightness" in data:
            brightness = round(data["brightness"])
        if service == "turn_off" or brightness == 0:
            attributes.update(brightness=None, color_mode=None)
            for colour in ("rgb_color", "color_temp_kelvin"):
                if colour in attributes:
                    attributes[colour] = None
            return self._set(entity_id, "off", attributes)
        modes = attributes.get("supported_color_modes", [])
        mode = "brightness" if "brightness" in modes else attributes.get("color_mode") or modes[0]
        if "rgb_color" in data and "rgb" in modes:
            attributes["rgb_color"] = list(data["rgb_color"])
            mode = "rgb"
        if "color_temp_kelvin" in data and "color_temp" in modes:
            attributes["color_temp_kelvin"] = data["color_temp_kelvin"]
            mode = "color_temp"
        attributes.update(brightness=brightness, color_mode=mode)
        return self._set(entity_id, "on", attributes)

    def _climate(self, entity_id: str, service: str, attributes: Json, data: Json) -> bool:
        state = self.entities[entity_id]["state"]
        mode = data.get("hvac_mode")
        if mode is not None and mode not in attributes["hvac_modes"]:
            raise BadRequest(
                f"HVAC mode {mode} is not valid. Valid HVAC modes are: off, heat, cool, auto"
            )
        if service == "set_temperature":
            low, high = attributes["min_temp"], attributes["max_temp"]
            if not low <= data["temperature"] <= high:
                raise BadRequest(
                    f"Provided temperature {data['temperature']} is not valid. "
                    f"Accepted range is {low} to {high}."
                )
            attributes["temperature"] = data["temperature"]
            state = mode or state
        elif service == "set_hvac_mode":
            state = mode or state
        else:
            state = "off" if service == "turn_off" else "heat"
        return self._set(entity_id, state, attributes)

    # -- history and templates --------------------------------------------------------------

    def _history(self, path: str, query: dict[str, list[str]]) -> list[list[Json]]:
        if "filter_entity_id" not in query:
            raise BadRequest("filter_entity_id is missing")
        stamp = path.removeprefix("/api/history/period").strip("/")
        start = datetime.fromisoformat(stamp) if stamp else datetime.now(UTC) - timedelta(days=1)
        end = (
            datetime.fromisoformat(query["end_time"][0])
            if "end_time" in query
            else start + timedelta(days=1)
        )
        result: list[list[Json]] = []
        for entity_id in query["filter_entity_id"][0].split(","):
            states: list[Json] = []
            for snapshot in self.history.get(entity_id, []):
                updated = datetime.fromisoformat(snapshot["last_updated"])
                if updated < start:
                    # The state in effect when the period starts, stamped with the start.
                    first = copy.deepcopy(snapshot)
                    first["last_changed"] = first["last_updated"] = _iso(start)
                    states = [first]
                elif updated <= end:
                    states.append(snapshot)
            if states:
                result.append(states)
        return result

    def _render(self, template: str) -> str:
        match = re.fullmatch(r"\s*\{\{\s*(.*?)\s*\}\}\s*", template, re.DOTALL)
        expression = match.group(1) if match else ""
        if expression == "areas()":
            return repr(list(self.areas))
        call = re.fullmatch(r"area_entities\((.*)\)", expression)
        if call is not None:
            try:
                wanted = ast.literal_eval(call.group(1))
            except (ValueError, SyntaxError) as err:
                raise BadRequest(f"Error rendering template: {err}") from err
            return repr(self._area_members(str(wanted)))
        raise BadRequest(
            "Error rendering template: the fake renders only {{ areas() }} and "
            "{{ area_entities('<area>') }}"
        )

    def _area_members(self, wanted: str) -> list[str]:
        # By id, then by name ignoring case and spaces, as Home Assistant's area registry does.
        if wanted in self.areas:
            return list(self.areas[wanted][1])
        key = re.sub(r"\s+", "", wanted).casefold()
        for name, members in self.areas.values():
            if re.sub(r"\s+", "", name).casefold() == key:
                return list(members)
        return []


_CONFIG: Json = {
    "location_name": "Home",
    "version": "2025.11.2",
    "time_zone": "Europe/Berlin",
    "unit_system": {"length": "km", "mass": "g", "temperature": "°C", "volume": "L"},
    "latitude": 52.52,
    "longitude": 13.40,
    "elevation": 34,
    "components": ["api", "climate", "history", "light", "sensor", "switch"],
    "config_dir": "/config",
    "state": "RUNNING",
    "safe_mode": False,
}


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo home's Home Assistant (lights, a thermostat, a front door lock, sensors) on
    127.0.0.1 while the block runs; yields the server's settings that reach it. ``state_dir``
    is unused: the fake keeps all in memory."""
    with FakeHomeAssistant() as fake:
        yield {
            "ANGIE_HOME_ASSISTANT_URL": fake.url,
            "ANGIE_HOME_ASSISTANT_ACCESS_TOKEN": fake.token,
        }


def _body_json(body: bytes) -> Json:
    try:
        value = json.loads(body or b"{}")
    except ValueError as err:
        raise BadRequest("Data should be valid JSON.") from err
    if not isinstance(value, dict):
        raise BadRequest("Data should be a JSON object.")
    return value


def _validate(key: str, value: object) -> None:
    kind, low, high = _FIELD_TYPES[key]
    where = f"for dictionary value @ data['{key}']"
    if kind == _NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"expected float {where}")
        if low is not None and value < low:
            raise BadRequest(f"value must be at least {low} {where}")
        if high is not None and value > high:
            raise BadRequest(f"value must be at most {high} {where}")
    elif kind == _RGB:
        if not (
            isinstance(value, list)
            and len(value) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value)
        ):
            raise BadRequest(f"expected a list of three integers from 0 to 255 {where}")
    elif not isinstance(value, str):
        raise BadRequest(f"expected str {where}")
