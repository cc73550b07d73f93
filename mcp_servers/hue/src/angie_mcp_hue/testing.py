"""A fake Hue bridge (REST API v1) on 127.0.0.1 for the real phue, with failure injection.

Angie's own tests and demos drive the real Hue server against it; nothing here talks to a bridge.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from angie_mcp_core.fakes import FakeService, Reply, Request

__all__ = ("USERNAME", "FakeHueBridge", "FakeRequest", "demo", "demo_state")

# The key the fake has whitelisted; distinctive so tests can assert it never leaks.
USERNAME = "s3cret-hue-key-5Jm2qVxT8rWb0LdE"
_LINK_BUTTON_WINDOW_S = 30.0
_STATE_KEYS = ("on", "bri", "hue", "sat", "xy", "ct", "effect", "alert")


def _light(name: str, kind: str, model: str, room_state: dict[str, Any]) -> dict[str, Any]:
    state = {"alert": "select", "mode": "homeautomation", "reachable": True, **room_state}
    return {
        "state": state,
        "swupdate": {"state": "noupdates", "lastinstall": "2024-10-01T03:12:44"},
        "type": kind,
        "name": name,
        "modelid": model,
        "manufacturername": "Signify Netherlands B.V.",
        "productname": kind.replace(" light", " lamp"),
        "config": {"archetype": "classicbulb", "function": "mixed", "direction": "omnidirectional"},
        "uniqueid": f"00:17:88:01:0{len(name) % 10}:{model[-3:]}:{len(kind):02x}:4e-0b",
        "swversion": "1.108.7",
    }


def _home() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A realistic home: two rooms, a zone, an entertainment area, scenes; one lamp unplugged."""
    lights = {
        "1": _light(
            "Sofa lamp",
            "Extended color light",
            "LCT015",
            {"on": True, "bri": 203, "hue": 8417, "sat": 140, "effect": "none"}
            | {"xy": [0.4573, 0.41], "ct": 366, "colormode": "ct"},
        ),
        "2": _light(
            "Floor lamp",
            "Extended color light",
            "LCA001",
            {"on": False, "bri": 254, "hue": 6291, "sat": 251, "effect": "none"}
            | {"xy": [0.5, 0.4], "ct": 500, "colormode": "xy"},
        ),
        "3": _light(
            "Reading lamp",
            "Color temperature light",
            "LTW001",
            {"on": False, "bri": 1, "ct": 447, "colormode": "ct", "reachable": False},
        ),
        "4": _light(
            "Kitchen ceiling",
            "Color temperature light",
            "LTW010",
            {"on": True, "bri": 254, "ct": 233, "colormode": "ct"},
        ),
        "5": _light("Kitchen counter", "Dimmable light", "LWB010", {"on": False, "bri": 127}),
        "6": _light("Coffee machine", "On/Off plug-in unit", "LOM001", {"on": False}),
    }
    groups: dict[str, dict[str, Any]] = {
        "1": {
            "name": "Living room",
            "lights": ["1", "2", "3"],
            "type": "Room",
            "class": "Living room",
        },
        "2": {"name": "Kitchen", "lights": ["4", "5", "6"], "type": "Room", "class": "Kitchen"},
        "3": {
            "name": "Downstairs",
            "lights": ["1", "2", "4"],
            "type": "Zone",
            "class": "Downstairs",
        },
        "4": {"name": "TV area", "lights": ["1", "2"], "type": "Entertainment", "class": "TV"},
    }
    for group in groups.values():
        group.update(sensors=[], recycle=False, action={"on": False, "alert": "none"})
    warm = {"on": True, "bri": 144, "ct": 447}
    cool = {"on": True, "bri": 254, "ct": 233}
    scenes: dict[str, tuple[str, str, dict[str, dict[str, Any]]]] = {
        "ssRlxLivng4Xa1q": ("Relax", "1", {"1": warm, "2": warm, "3": warm}),
        "ssRlxKitch9Pb2r": (
            "Relax",
            "2",
            {"4": warm, "5": {"on": True, "bri": 144}, "6": {"on": True}},
        ),
        "ssCncKitch2Qc3s": (
            "Concentrate",
            "2",
            {"4": cool, "5": {"on": True, "bri": 254}, "6": {"on": True}},
        ),
        "ssNgtLivng7Rd4t": (
            "Nightlight",
            "1",
            {
                "1": {"on": True, "bri": 1, "xy": [0.561, 0.4042]},
                "2": {"on": False},
                "3": {"on": False},
            },
        ),
    }
    scene_json = {
        sid: {
            "name": name,
            "type": "GroupScene",
            "group": group,
            "lights": sorted(states),
            "owner": "e1f2a3b4c5d6-hue-app",
            "recycle": False,
            "locked": False,
            "appdata": {"version": 1, "data": f"{sid[:5]}_r11_d01"},
            "picture": "",
            "lastupdated": "2024-11-02T19:12:44",
            "version": 2,
        }
        for sid, (name, group, states) in scenes.items()
    }
    scene_states = {sid: states for sid, (_, _, states) in scenes.items()}
    return lights, groups, scene_json, scene_states


@dataclass(frozen=True, slots=True)
class FakeRequest:
    method: str
    path: str
    body: Any


class FakeHueBridge(FakeService):
    """The bridge's v1 REST API in memory: lights, groups (rooms, zones), scenes, config, pairing.

    Failure injection: ``fail_next(status, times, headers)`` answers the next requests with an
    HTTP error; ``bridge_error_next(type, description)`` with the bridge's 200-with-error list;
    ``delay`` slows every answer (``release()`` ends a pending wait); ``stop()`` closes the port.
    """

    def __init__(self, username: str = USERNAME, delay: float = 0.0) -> None:
        super().__init__()
        self.username = username
        self.delay = delay
        self.devicetypes: list[str] = []
        self.lights, self.groups, self.scenes, self._scene_states = _home()
        self.whitelist: dict[str, str] = {self.username: "angie#test"}
        self.last_transition: int | None = None
        self._link_button_until = 0.0

    @property
    def requests(self) -> list[FakeRequest]:
        return [FakeRequest(r.method, r.target, _body(r)) for r in self.log]

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self.inject(Reply.json(status, {"error": f"injected HTTP {status}"}, headers), times=times)

    def bridge_error_next(self, error_type: int, description: str, times: int = 1) -> None:
        body = [{"error": {"type": error_type, "address": "/", "description": description}}]
        self.inject(Reply.json(200, body), times=times)

    def press_link_button(self) -> None:
        self._link_button_until = time.monotonic() + _LINK_BUTTON_WINDOW_S

    # The API ---------------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        body = _body(request)
        if body is _INVALID_JSON:
            return Reply.json(200, [_error(2, request.target, "body contains invalid json")])
        parts = [p for p in request.target.split("/") if p]
        return Reply.json(200, self._route(request.method, parts, body))

    def _route(self, method: str, parts: list[str], body: Any) -> Any:
        if parts == ["api"] and method == "POST":
            return self._pair(body)
        if len(parts) < 2 or parts[0] != "api":
            return [_error(4, "/" + "/".join(parts), "method not available")]
        user, rest = parts[1], parts[2:]
        address = "/" + "/".join(rest)
        if user not in self.whitelist:
            if rest == ["config"] and method == "GET":
                return self._public_config()
            return [_error(1, address, "unauthorized user")]
        match method, rest:
            case "GET", []:
                config = self._config()
                return {"lights": self.lights, "groups": self._groups(), "config": config}
            case "GET", ["config"]:
                return self._config()
            case "GET", ["lights"]:
                return self.lights
            case "GET", ["lights", light_id] if light_id in self.lights:
                return self.lights[light_id]
            case "PUT", ["lights", light_id, "state"] if light_id in self.lights:
                return self._set_light(light_id, body)
            case "GET", ["groups"]:
                return self._groups()
            case "GET", ["groups", group_id] if group_id in self._group_ids():
                return self._group(group_id)
            case "PUT", ["groups", group_id, "action"] if group_id in self._group_ids():
                return self._set_group(group_id, body)
            case "GET", ["scenes"]:
                return self.scenes
            case "GET", ["scenes", scene_id] if scene_id in self.scenes:
                return self.scenes[scene_id] | {"lightstates": self._scene_states[scene_id]}
            case _, ["lights" | "groups" | "scenes", *_]:
                return [_error(3, address, f"resource, {address}, not available")]
        return [_error(4, address, f"method, {method}, not available for resource, {address}")]

    def _pair(self, body: Any) -> list[dict[str, Any]]:
        devicetype = body.get("devicetype") if isinstance(body, dict) else None
        if not isinstance(devicetype, str) or not 0 < len(devicetype) <= 40:
            return [_error(7, "", f"invalid value, {devicetype}, for parameter, devicetype")]
        if time.monotonic() > self._link_button_until:
            return [_error(101, "", "link button not pressed")]
        key = secrets.token_hex(20)
        self.whitelist[key] = devicetype
        self.devicetypes.append(devicetype)
        return [{"success": {"username": key}}]

    def _config(self) -> dict[str, Any]:
        whitelist = {
            key: {"last use date": "2024-11-21T18:00:00", "create date": "2024-01-05T10:00:00"}
            | {"name": name}
            for key, name in self.whitelist.items()
        }
        return self._public_config() | {
            "zigbeechannel": 25,
            "dhcp": True,
            "ipaddress": "127.0.0.1",
            "netmask": "255.255.255.0",
            "gateway": "127.0.0.1",
            "timezone": "Europe/Amsterdam",
            "linkbutton": time.monotonic() <= self._link_button_until,
            "whitelist": whitelist,
        }

    @staticmethod
    def _public_config() -> dict[str, Any]:
        return {
            "name": "Hue Bridge",
            "datastoreversion": "163",
            "swversion": "1967054020",
            "apiversion": "1.65.0",
            "mac": "00:17:88:4a:1b:2c",
            "bridgeid": "001788FFFE4A1B2C",
            "factorynew": False,
            "replacesbridgeid": None,
            "modelid": "BSB002",
            "starterkitid": "",
        }

    def _group_ids(self) -> set[str]:
        return {"0", *self.groups}  # group 0 is every light; the bridge never lists it

    def _group(self, group_id: str) -> dict[str, Any]:
        group: dict[str, Any]
        if group_id == "0":
            group = {"name": "Group 0", "lights": sorted(self.lights), "type": "LightGroup"}
            group |= {"sensors": [], "recycle": False, "action": {"on": False}}
        else:
            group = self.groups[group_id]
        states = [self.lights[i]["state"]["on"] for i in group["lights"]]
        return group | {"state": {"all_on": all(states) and bool(states), "any_on": any(states)}}

    def _groups(self) -> dict[str, Any]:
        return {group_id: self._group(group_id) for group_id in self.groups}

    def _set_light(self, light_id: str, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return [_error(2, f"/lights/{light_id}/state", "body contains invalid json")]
        self.last_transition = body.get("transitiontime")
        state = self.lights[light_id]["state"]
        turning_on = body.get("on") is True
        results: list[dict[str, Any]] = []
        for key, value in body.items():
            address = f"/lights/{light_id}/state/{key}"
            if key == "transitiontime":
                continue
            if key not in _STATE_KEYS or key not in state:
                results.append(_error(6, address, f"parameter, {key}, not available"))
            elif not _valid(key, value):
                results.append(_error(7, address, f"invalid value, {value}, for parameter, {key}"))
            elif key != "on" and not state["on"] and not turning_on:
                message = f"parameter, {key}, is not modifiable. Device is set to off."
                results.append(_error(201, address, message))
            else:
                _apply(state, key, value, colormode=_colormode(body))
                results.append({"success": {address: value}})
        return results

    def _set_group(self, group_id: str, body: Any) -> list[dict[str, Any]]:
        prefix = f"/groups/{group_id}/action"
        if not isinstance(body, dict):
            return [_error(2, prefix, "body contains invalid json")]
        self.last_transition = body.get("transitiontime")
        members = self._group(group_id)["lights"]
        if "scene" in body:
            scene_id = body["scene"]
            if scene_id not in self.scenes:
                message = f"invalid value, {scene_id}, for parameter, scene"
                return [_error(7, f"{prefix}/scene", message)]
            for light_id, target in self._scene_states[scene_id].items():
                if light_id in members and self.lights[light_id]["state"]["reachable"]:
                    self._merge(light_id, target)
            return [{"success": {f"{prefix}/scene": scene_id}}]
        results: list[dict[str, Any]] = []
        for key, value in body.items():
            if key == "transitiontime":
                continue
            if key not in _STATE_KEYS:
                results.append(_error(6, f"{prefix}/{key}", f"parameter, {key}, not available"))
            elif not _valid(key, value):
                message = f"invalid value, {value}, for parameter, {key}"
                results.append(_error(7, f"{prefix}/{key}", message))
            else:
                results.append({"success": {f"{prefix}/{key}": value}})
        if any("error" in r for r in results):
            return results
        if group_id in self.groups:
            self.groups[group_id]["action"].update(body)
        for light_id in members:
            if self.lights[light_id]["state"]["reachable"]:
                self._merge(light_id, {k: v for k, v in body.items() if k != "transitiontime"})
        return results

    def _merge(self, light_id: str, target: dict[str, Any]) -> None:
        """What a group command or scene does to one member: each takes what it supports."""
        state = self.lights[light_id]["state"]
        if "on" in target:
            state["on"] = target["on"]
        if not state["on"]:
            return
        for key, value in target.items():
            if key != "on" and key in state:
                _apply(state, key, value, colormode=_colormode(target))


def demo_state(bridge: FakeHueBridge) -> FakeHueBridge:
    """The demo home's bridge: the tests' home plus a bedroom with two lamps and its scenes."""
    warm = {"on": True, "bri": 144, "ct": 447}
    with bridge.lock:
        bridge.lights["7"] = _light(
            "Bedside lamp",
            "Extended color light",
            "LCA007",
            {"on": True, "bri": 90, "hue": 8417, "sat": 140, "effect": "none"}
            | {"xy": [0.4573, 0.41], "ct": 447, "colormode": "ct"},
        )
        bridge.lights["8"] = _light(
            "Bedroom ceiling",
            "Color temperature light",
            "LTW008",
            {"on": False, "bri": 254, "ct": 366, "colormode": "ct"},
        )
        bridge.groups["5"] = {
            "name": "Bedroom",
            "lights": ["7", "8"],
            "type": "Room",
            "class": "Bedroom",
            "sensors": [],
            "recycle": False,
            "action": {"on": False, "alert": "none"},
        }
        scenes: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
            "ssRlxBedrm5Se6u": ("Relax", {"7": warm, "8": warm}),
            "ssNgtBedrm8Tf7v": ("Nightlight", {"7": {"on": True, "bri": 1}, "8": {"on": False}}),
        }
        for scene_id, (name, states) in scenes.items():
            bridge.scenes[scene_id] = bridge.scenes["ssRlxLivng4Xa1q"] | {
                "name": name,
                "group": "5",
                "lights": sorted(states),
                "appdata": {"version": 1, "data": f"{scene_id[:5]}_r13_d01"},
            }
            bridge._scene_states[scene_id] = states
    return bridge


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo home's bridge (see :func:`demo_state`) on 127.0.0.1 while the block runs; yields
    the Hue server's settings that reach it. ``state_dir`` is unused: the bridge keeps all in
    memory."""
    with demo_state(FakeHueBridge()) as bridge:
        yield {"ANGIE_HUE_BRIDGE_HOST": bridge.host, "ANGIE_HUE_USERNAME": bridge.username}


_INVALID_JSON = object()


def _body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return _INVALID_JSON


def _error(error_type: int, address: str, description: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "address": address, "description": description}}


def _valid(key: str, value: Any) -> bool:
    match key:
        case "on":
            return isinstance(value, bool)
        case "bri" | "sat":
            return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 254
        case "ct":
            return isinstance(value, int) and 153 <= value <= 500
        case "hue":
            return isinstance(value, int) and 0 <= value <= 65535
        case "xy":
            return (
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(v, int | float) and 0 <= v <= 1 for v in value)
            )
        case _:
            return isinstance(value, str)


def _colormode(body: dict[str, Any]) -> str | None:
    # The bridge's priority when several are sent: xy, then ct, then hue/sat.
    for key, mode in (("xy", "xy"), ("ct", "ct"), ("hue", "hs"), ("sat", "hs")):
        if key in body:
            return mode
    return None


def _apply(state: dict[str, Any], key: str, value: Any, colormode: str | None) -> None:
    state[key] = copy.deepcopy(value)
    if colormode is not None and "colormode" in state:
        state["colormode"] = colormode
