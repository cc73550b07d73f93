"""The Hue bridge's lights, rooms, zones and scenes through phue, by name, in %, kelvin and hex."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    UnauthorizedError,
    UpstreamError,
)
from angie_mcp_core.vendor import VendorClient
from angie_mcp_hue.bridge import SERVICE, HueBridge
from angie_mcp_hue.color import (
    KELVIN_MAX,
    KELVIN_MIN,
    bri_to_percent,
    hex_to_xy,
    kelvin_to_mired,
    mired_to_kelvin,
    percent_to_bri,
    xy_to_hex,
)
from angie_mcp_hue.models import Light, Room, RoomState, Scene, SceneActivation
from angie_mcp_hue.settings import HueSettings, bare_host

__all__ = ("SERVICE", "HueClient")

_GROUP_KINDS = {"Room": "room", "Zone": "zone"}
# Hue's transitiontime is a uint16 in deciseconds.
_MAX_TRANSITION_S = 6553.5
_DEFAULT_SCENE_TRANSITION_DS = 4


class _Json(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _LightStateJson(_Json):
    on: bool = False
    bri: int | None = None
    ct: int | None = None
    xy: tuple[float, float] | None = None
    colormode: str | None = None
    reachable: bool = True


class _LightJson(_Json):
    name: str
    type: str = ""
    state: _LightStateJson


class _GroupStateJson(_Json):
    all_on: bool = False
    any_on: bool = False


class _GroupJson(_Json):
    name: str
    type: str = ""
    lights: list[str] = []
    room_class: str | None = Field(default=None, alias="class")
    state: _GroupStateJson | None = None


class _SceneJson(_Json):
    name: str
    type: str = "LightScene"
    group: str | None = None
    lights: list[str] = []


_LIGHTS = TypeAdapter(dict[str, _LightJson])
_GROUPS = TypeAdapter(dict[str, _GroupJson])
_SCENES = TypeAdapter(dict[str, _SceneJson])


def _parse[T](adapter: TypeAdapter[T], answer: Any, what: str) -> T:
    try:
        return adapter.validate_python(answer)
    except ValidationError as err:
        raise UpstreamError(SERVICE, f"its list of {what} did not look as expected") from err


def _id_order(item_id: str) -> tuple[int, str]:
    return (len(item_id), item_id)


def _find(kind: str, name: str, names: Mapping[str, str]) -> str:
    """The id of the item called ``name`` (case-insensitive), or of the id ``name`` itself."""
    wanted = name.strip().casefold()
    found = [item_id for item_id, item_name in names.items() if item_name.casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidArgumentError(
            f"Several {kind}s are named {name!r} (ids {', '.join(sorted(found))}); "
            "use the id instead."
        )
    if name.strip() in names:
        return name.strip()
    raise NotFoundError(kind, name, sorted(set(names.values())))


@dataclass(frozen=True, slots=True)
class _Home:
    lights: dict[str, _LightJson]
    groups: dict[str, _GroupJson]  # rooms and zones only

    def room_of(self, light_id: str) -> str | None:
        for group in self.groups.values():
            if group.type == "Room" and light_id in group.lights:
                return group.name
        return None

    def light(self, light_id: str) -> Light:
        raw = self.lights[light_id]
        state = raw.state
        in_color = state.colormode in ("xy", "hs") and state.xy is not None
        xy = state.xy if in_color else None
        return Light(
            id=light_id,
            name=raw.name,
            type=raw.type,
            on=state.on,
            brightness=None if state.bri is None else bri_to_percent(state.bri),
            color_temperature_k=(
                mired_to_kelvin(state.ct) if state.colormode == "ct" and state.ct else None
            ),
            color_hex=None if xy is None else xy_to_hex(*xy),
            color_xy=xy,
            reachable=state.reachable,
            room=self.room_of(light_id),
        )

    def room_state(self, group_id: str) -> RoomState:
        group = self.groups[group_id]
        lights = [self.light(i) for i in sorted(group.lights, key=_id_order) if i in self.lights]
        levels = [light.brightness for light in lights if light.on and light.brightness is not None]
        any_on = group.state.any_on if group.state else any(light.on for light in lights)
        all_on = group.state.all_on if group.state else all(light.on for light in lights)
        return RoomState(
            id=group_id,
            name=group.name,
            kind="room" if group.type == "Room" else "zone",
            any_on=any_on,
            all_on=all_on and bool(lights),
            brightness=round(sum(levels) / len(levels)) if levels else None,
            lights=lights,
        )


def _state_change(
    on: bool | None,
    brightness: int | None,
    color_temperature_k: int | None,
    hex_color: str | None,
    transition_s: float | None,
) -> tuple[dict[str, Any], int | None]:
    """The bridge's state body and transition (deciseconds), or InvalidArgumentError."""
    if on is None and brightness is None and color_temperature_k is None and hex_color is None:
        raise InvalidArgumentError(
            "Nothing to change: give on, brightness, color_temperature_k or color."
        )
    if color_temperature_k is not None and hex_color is not None:
        raise InvalidArgumentError("Give either a colour or a colour temperature, not both.")
    if on is False and (brightness, color_temperature_k, hex_color) != (None, None, None):
        raise InvalidArgumentError(
            "A light that is being turned off cannot change brightness or colour; "
            "leave on unset (or true) to adjust it."
        )
    body: dict[str, Any] = {} if on is None else {"on": on}
    if brightness is not None:
        if not 0 <= brightness <= 100:
            raise InvalidArgumentError(f"Brightness must be 0-100 %, not {brightness}.")
        body["bri"] = percent_to_bri(brightness)
    if color_temperature_k is not None:
        if not KELVIN_MIN <= color_temperature_k <= KELVIN_MAX:
            raise InvalidArgumentError(
                f"Colour temperature must be {KELVIN_MIN}-{KELVIN_MAX} K "
                f"(warm to daylight), not {color_temperature_k}."
            )
        body["ct"] = kelvin_to_mired(color_temperature_k)
    if hex_color is not None:
        try:
            body["xy"] = list(hex_to_xy(hex_color))
        except ValueError as err:
            raise InvalidArgumentError(f"Bad colour: {err}.") from err
    if on is None:
        body["on"] = True  # the bridge refuses brightness or colour changes on a light that is off
    return body, _transition_ds(transition_s)


def _transition_ds(transition_s: float | None) -> int | None:
    if transition_s is None:
        return None
    if not 0 <= transition_s <= _MAX_TRANSITION_S:
        raise InvalidArgumentError(
            f"Transition must be 0-{_MAX_TRANSITION_S:g} seconds, not {transition_s:g}."
        )
    return round(transition_s * 10)


class HueClient(VendorClient):
    """One Hue bridge (API v1), reached with phue; every method blocks on the LAN.

    Lights, rooms, zones and scenes are looked up by name, case-insensitively (ids work too).
    """

    def __init__(self, settings: HueSettings, *, config_file_path: str | None = None) -> None:
        self._settings = settings
        # phue's ~/.python_hue: Angie keeps the key in its settings, so by default nothing is
        # read or written there.
        self._config_file_path = config_file_path or os.devnull
        self._auth_hint = (
            f"Set {settings.env_name('username')} to an API key this bridge issued "
            "(press the bridge's link button, then pair)."
        )
        self._connected: HueBridge | None = None

    def _bridge(self) -> HueBridge:
        host, key = self._settings.bridge_host, self._settings.username
        if not host or not key:
            hint = "" if key else "Pair with the bridge to get a username."
            raise NotConfiguredError(SERVICE, self._settings.missing(), hint)
        if self._connected is None:
            self._connected = self._new_bridge(host, key.get_secret_value())
        return self._connected

    def _new_bridge(self, host: str, username: str | None) -> HueBridge:
        return HueBridge(
            host,
            username,
            timeout=self._settings.timeout,
            auth_hint=self._auth_hint,
            config_file_path=self._config_file_path,
        )

    def _lights(self) -> dict[str, _LightJson]:
        return _parse(_LIGHTS, self._bridge().get_light(), "lights")

    def _groups(self) -> dict[str, _GroupJson]:
        groups = _parse(_GROUPS, self._bridge().get_group(), "rooms")
        # Entertainment areas, luminaires and app-made light groups are not places people name.
        return {i: g for i, g in groups.items() if g.type in _GROUP_KINDS}

    def _home(self) -> _Home:
        return _Home(lights=self._lights(), groups=self._groups())

    def probe(self) -> str:
        """The bridge's name, model and versions; raises when unreachable or the key is wrong."""
        bridge = self._bridge()
        config = bridge.request("GET", f"/api/{bridge.username}/config")
        if not isinstance(config, dict):
            raise UpstreamError(SERVICE, "its configuration did not look as expected")
        # An unknown key still gets the public subset of the config; only a paired app sees this.
        if "whitelist" not in config:
            raise UnauthorizedError(SERVICE, self._auth_hint)
        return (
            f"Hue bridge {config.get('name', '?')!r} (model {config.get('modelid', '?')}, "
            f"API {config.get('apiversion', '?')}, software {config.get('swversion', '?')})"
        )

    def pair(self, host: str | None = None) -> str:
        """Ask the bridge for a new API key; the user must press its link button first.

        Returns the key to store as the username setting; raises InvalidArgumentError (press the
        button, then retry) until the button has been pressed in the last 30 seconds.
        """
        target = bare_host(host) if host else self._settings.bridge_host
        if not target:
            raise NotConfiguredError(
                SERVICE, [self._settings.env_name("bridge_host")], "Or give the bridge's address."
            )
        # The bridge allows "<app, <=20 chars>#<device, <=19 chars>".
        devicetype = f"angie#{socket.gethostname()[:19]}"
        answer = self._new_bridge(target, None).request("POST", "/api", {"devicetype": devicetype})
        for item in answer if isinstance(answer, list) else []:
            success = item.get("success") if isinstance(item, dict) else None
            username = success.get("username") if isinstance(success, dict) else None
            if isinstance(username, str) and username:
                return username
        raise UpstreamError(SERVICE, "it accepted the pairing but returned no username")

    def list_lights(self) -> list[Light]:
        home = self._home()
        return [home.light(i) for i in sorted(home.lights, key=_id_order)]

    def list_rooms(self) -> list[Room]:
        """Rooms and zones with the names of their lights."""
        home = self._home()
        return [
            Room(
                id=group_id,
                name=group.name,
                kind="room" if group.type == "Room" else "zone",
                room_class=group.room_class,
                lights=[home.lights[i].name for i in group.lights if i in home.lights],
            )
            for group_id, group in sorted(home.groups.items(), key=lambda kv: _id_order(kv[0]))
        ]

    def list_scenes(self) -> list[Scene]:
        scenes = _parse(_SCENES, self._bridge().get_scene(), "scenes")
        groups = self._groups()
        return [
            Scene(id=scene_id, name=scene.name, room=self._scene_room(scene, groups))
            for scene_id, scene in sorted(scenes.items(), key=lambda kv: kv[1].name.casefold())
        ]

    @staticmethod
    def _scene_room(scene: _SceneJson, groups: Mapping[str, _GroupJson]) -> str | None:
        group = groups.get(scene.group) if scene.group else None
        return group.name if group else None

    def get_light(self, name: str) -> Light:
        home = self._home()
        return home.light(_find("light", name, {i: g.name for i, g in home.lights.items()}))

    def get_room(self, name: str) -> RoomState:
        """A room's or zone's state: whether any/all lights are on, brightness, each light."""
        home = self._home()
        return home.room_state(_find("room", name, {i: g.name for i, g in home.groups.items()}))

    def set_light(
        self,
        name: str,
        *,
        on: bool | None = None,
        brightness: int | None = None,
        color_temperature_k: int | None = None,
        color: str | None = None,
        transition_s: float | None = None,
    ) -> Light:
        """Change one light; brightness or colour alone also turns it on. Returns its new state."""
        body, transition = _state_change(on, brightness, color_temperature_k, color, transition_s)
        lights = self._lights()
        light_id = _find("light", name, {i: light.name for i, light in lights.items()})
        self._check_can(lights[light_id], body)
        self._bridge().set_light(int(light_id), body, transitiontime=transition)
        return self._home().light(light_id)

    @staticmethod
    def _check_can(light: _LightJson, body: Mapping[str, Any]) -> None:
        state = light.state
        if not state.reachable:
            raise UpstreamError(
                SERVICE,
                f"the light {light.name!r} is unreachable: it is probably switched off at the "
                "wall or out of range",
            )
        if "bri" in body and state.bri is None:
            raise InvalidArgumentError(f"{light.name!r} cannot dim; it only turns on and off.")
        if "ct" in body and state.ct is None:
            raise InvalidArgumentError(f"{light.name!r} has no adjustable white temperature.")
        if "xy" in body and state.xy is None:
            raise InvalidArgumentError(f"{light.name!r} cannot show colours.")

    def set_room(
        self,
        name: str,
        *,
        on: bool | None = None,
        brightness: int | None = None,
        color_temperature_k: int | None = None,
        color: str | None = None,
        transition_s: float | None = None,
    ) -> RoomState:
        """Change every light of a room or zone (each takes what it supports). Returns the room."""
        body, transition = _state_change(on, brightness, color_temperature_k, color, transition_s)
        groups = self._groups()
        group_id = _find("room", name, {i: g.name for i, g in groups.items()})
        self._bridge().set_group(int(group_id), body, transitiontime=transition)
        return self._home().room_state(group_id)

    def activate_scene(
        self, name: str, room: str | None = None, transition_s: float | None = None
    ) -> SceneActivation:
        """Recall a scene by name; ``room`` picks among same-named scenes (Hue has one per room)."""
        transition = _transition_ds(transition_s)
        scenes = _parse(_SCENES, self._bridge().get_scene(), "scenes")
        groups = self._groups()
        wanted = name.strip().casefold()
        matches = {i: s for i, s in scenes.items() if s.name.casefold() == wanted}
        if not matches:
            if name.strip() in scenes:
                matches = {name.strip(): scenes[name.strip()]}
            else:
                raise NotFoundError("scene", name, sorted({s.name for s in scenes.values()}))
        where = sorted({self._scene_room(s, groups) or "all its lights" for s in matches.values()})
        group_id: str | None = None
        if room is not None:
            group_id = _find("room", room, {i: g.name for i, g in groups.items()})
            in_room = set(groups[group_id].lights)
            matches = {
                i: s
                for i, s in matches.items()
                if s.group == group_id or (s.group is None and set(s.lights) <= in_room)
            }
            if not matches:
                raise InvalidArgumentError(
                    f"{groups[group_id].name!r} has no scene {name!r}; "
                    f"it is in: {', '.join(where)}."
                )
        if len(matches) > 1:
            raise InvalidArgumentError(
                f"Several scenes are named {name!r} (in {', '.join(where)}); say which room."
            )
        scene_id, scene = next(iter(matches.items()))
        target = scene.group or group_id or "0"  # group 0 is every light on the bridge
        if transition is None:
            transition = _DEFAULT_SCENE_TRANSITION_DS
        self._bridge().activate_scene(int(target), scene_id, transition)
        room_name = groups[target].name if target in groups else None
        return SceneActivation(scene=scene.name, scene_id=scene_id, room=room_name)
