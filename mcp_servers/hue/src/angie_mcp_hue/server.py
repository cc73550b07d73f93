"""The Hue MCP server: lights, rooms, zones and scenes of one Hue bridge as tools for Angie."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.server import IDEMPOTENT_WRITE, READ_ONLY, WRITE, create_server
from angie_mcp_hue.client import SERVICE, HueClient
from angie_mcp_hue.color import KELVIN_MAX, KELVIN_MIN
from angie_mcp_hue.models import Light, Room, RoomState, Scene, SceneActivation
from angie_mcp_hue.settings import HueSettings

__all__ = ("build",)

INSTRUCTIONS = """\
Controls the Philips Hue lights of one home through its Hue bridge: lights, rooms, zones \
(groups of lights across rooms) and saved scenes. Lights, rooms and scenes are named as in the \
Hue app and matched case-insensitively; a wrong name gets an error suggesting the close ones. \
When unsure of a name, call list_rooms, list_lights or list_scenes first. Brightness is in \
percent (0-100), white colour temperature in kelvin (2000 warm to 6500 daylight), colours are \
#RRGGBB. For several lights in one place prefer set_room (one command) over many set_light \
calls. If a tool says the bridge is not configured or unreachable, call status."""

# Hue's transition time is a uint16 in deciseconds.
_MAX_TRANSITION_S = 6553.5

LightName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The light's name as in the Hue app, e.g. 'Sofa lamp' (any case), or its id.",
    ),
]
RoomName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The room's or zone's name as in the Hue app, e.g. 'Kitchen' (any case), "
        "or its id.",
    ),
]
On = Annotated[
    bool | None,
    Field(
        description="true to switch on, false to switch off; omit to leave it. Setting a "
        "brightness or colour alone also switches on. With false give nothing else.",
    ),
]
BrightnessPercent = Annotated[
    int | None,
    Field(
        ge=0,
        le=100,
        description="Brightness in percent, 0 (dimmest glow, not off) to 100 (full).",
    ),
]
ColorTemperatureK = Annotated[
    int | None,
    Field(
        ge=KELVIN_MIN,
        le=KELVIN_MAX,
        description=f"White colour temperature in kelvin, {KELVIN_MIN} (warm, candle-like) to "
        f"{KELVIN_MAX} (cool daylight); 2700 is a classic warm bulb. Not with color_hex.",
    ),
]
ColorHex = Annotated[
    str | None,
    Field(
        pattern=r"^#?[0-9A-Fa-f]{6}$",
        description="A colour as #RRGGBB, e.g. '#FF0000' for red (not black). Not with "
        "color_temperature_k.",
    ),
]
TransitionSeconds = Annotated[
    float | None,
    Field(
        ge=0,
        le=_MAX_TRANSITION_S,
        description="Fade time in seconds (0 = instant); omit for the bridge's default 0.4 s.",
    ),
]


def build(settings: HueSettings) -> FastMCP:
    """The Hue server; it starts and lists its tools even before the bridge is configured."""
    # The client only reaches the bridge (and checks its settings) when a tool calls it.
    hue = HueClient(settings)
    timeout = settings.timeout

    async def probe() -> str:
        return await call_blocking(SERVICE, timeout, hue.probe)

    mcp = create_server("hue", settings, instructions=INSTRUCTIONS, probe=probe)

    @mcp.tool(annotations=READ_ONLY)
    async def list_lights() -> list[Light]:
        """List every light on the Hue bridge with its current state.

        Use it to learn the lights' names or to see what is on. Each light has its name, room,
        whether it is on, brightness (0-100 %, null for plugs that cannot dim), colour
        temperature in kelvin (when in white mode) or colour as #RRGGBB (when in colour mode),
        and reachable (false when it is switched off at the wall or out of range).
        """
        return await call_blocking(SERVICE, timeout, hue.list_lights)

    @mcp.tool(annotations=READ_ONLY)
    async def list_rooms() -> list[Room]:
        """List the rooms and zones on the Hue bridge, with the names of their lights.

        Use it to learn which places can be controlled with set_room or get_room. kind is
        'room' (each light in at most one) or 'zone' (a group across rooms, e.g. 'Downstairs').
        """
        return await call_blocking(SERVICE, timeout, hue.list_rooms)

    @mcp.tool(annotations=READ_ONLY)
    async def list_scenes() -> list[Scene]:
        """List the saved Hue scenes (lighting moods such as 'Relax') and the room of each.

        Use it before activate_scene to find a scene's exact name. The same name often exists
        in several rooms; room says which one each entry belongs to.
        """
        return await call_blocking(SERVICE, timeout, hue.list_scenes)

    @mcp.tool(annotations=READ_ONLY)
    async def get_light(name: LightName) -> Light:
        """Get one light's current state: on/off, brightness, colour, room, reachable.

        Use it to answer "is the sofa lamp on?" or to check a change. Brightness is 0-100 %,
        colour temperature in kelvin, colour as #RRGGBB.
        """
        return await call_blocking(SERVICE, timeout, hue.get_light, name)

    @mcp.tool(annotations=READ_ONLY)
    async def get_room(name: RoomName) -> RoomState:
        """Get a room's or zone's current state and that of each of its lights.

        Use it to answer "are the kitchen lights on?". Returns any_on, all_on, the mean
        brightness (0-100 %) of the lights that are on, and every light's state.
        """
        return await call_blocking(SERVICE, timeout, hue.get_room, name)

    @mcp.tool(annotations=IDEMPOTENT_WRITE)
    async def set_light(
        name: LightName,
        on: On = None,
        brightness_percent: BrightnessPercent = None,
        color_temperature_k: ColorTemperatureK = None,
        color_hex: ColorHex = None,
        transition_seconds: TransitionSeconds = None,
    ) -> Light:
        """Switch one light on or off, dim it, or change its white temperature or colour.

        Use it for a single named light; for every light in a room or zone use set_room.
        Give at least one of on, brightness_percent, color_temperature_k, color_hex; give
        either a colour temperature or a colour, not both. Lights that cannot dim or show
        colours say so in the error. Returns the light's new state.
        """
        return await call_blocking(
            SERVICE,
            timeout,
            hue.set_light,
            name,
            on=on,
            brightness=brightness_percent,
            color_temperature_k=color_temperature_k,
            color=color_hex,
            transition_s=transition_seconds,
        )

    @mcp.tool(annotations=IDEMPOTENT_WRITE)
    async def set_room(
        name: RoomName,
        on: On = None,
        brightness_percent: BrightnessPercent = None,
        color_temperature_k: ColorTemperatureK = None,
        color_hex: ColorHex = None,
        transition_seconds: TransitionSeconds = None,
    ) -> RoomState:
        """Switch, dim or recolour every light of a room or zone at once.

        Use it for requests about a place ("dim the living room to 30 %", "turn off
        downstairs"). Give at least one of on, brightness_percent, color_temperature_k,
        color_hex; give either a colour temperature or a colour, not both. Each light takes
        what it supports (a plug only switches). Returns the room's new state.
        """
        return await call_blocking(
            SERVICE,
            timeout,
            hue.set_room,
            name,
            on=on,
            brightness=brightness_percent,
            color_temperature_k=color_temperature_k,
            color=color_hex,
            transition_s=transition_seconds,
        )

    @mcp.tool(annotations=WRITE)
    async def activate_scene(
        name: Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                description="The scene's name as in the Hue app, e.g. 'Relax' (any case).",
            ),
        ],
        room: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=64,
                description="The room or zone whose scene to recall; needed when several "
                "rooms have a scene of that name, e.g. 'Kitchen'.",
            ),
        ] = None,
    ) -> SceneActivation:
        """Recall a saved Hue scene, setting its lights to the scene's stored states.

        Use it for moods ("relax in the kitchen"). If several rooms have a scene with that
        name, the error lists them: call again with room. Returns the scene and the room it
        was recalled in.
        """
        return await call_blocking(SERVICE, timeout, hue.activate_scene, name, room)

    return mcp
