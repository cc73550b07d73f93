"""What the Hue tools return: lights, rooms and zones, scenes, in units people use (%, kelvin)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ("Light", "Room", "RoomState", "Scene", "SceneActivation")


class Light(BaseModel):
    """One light as the bridge last saw it."""

    id: str = Field(description="The bridge's id of the light.")
    name: str
    type: str = Field(description="The bridge's kind of light, e.g. 'Extended color light'.")
    on: bool
    brightness: int | None = Field(
        default=None, description="0-100 %; None for lights that cannot dim (plugs)."
    )
    color_temperature_k: int | None = Field(
        default=None, description="White colour temperature in kelvin, when in white mode."
    )
    color_hex: str | None = Field(
        default=None, description="Approximate colour as #RRGGBB, when in colour mode."
    )
    color_xy: tuple[float, float] | None = Field(
        default=None, description="CIE 1931 xy chromaticity, when in colour mode."
    )
    reachable: bool = Field(
        description="False when the bridge cannot reach it (off at the wall, out of range)."
    )
    room: str | None = Field(default=None, description="The room it belongs to, if any.")


class Room(BaseModel):
    """A room (each light in at most one) or a zone (any lights, across rooms)."""

    id: str
    name: str
    kind: Literal["room", "zone"]
    room_class: str | None = Field(
        default=None, description="The Hue app's category, e.g. 'Living room', 'Kitchen'."
    )
    lights: list[str] = Field(description="Names of the lights in it.")


class RoomState(BaseModel):
    """A room or zone with the live state of its lights."""

    id: str
    name: str
    kind: Literal["room", "zone"]
    any_on: bool
    all_on: bool
    brightness: int | None = Field(
        default=None, description="Mean brightness of its lights that are on, 0-100 %."
    )
    lights: list[Light]


class Scene(BaseModel):
    """A saved scene; most belong to one room or zone."""

    id: str
    name: str
    room: str | None = Field(default=None, description="The room or zone it belongs to.")


class SceneActivation(BaseModel):
    """Which scene was recalled, and where."""

    scene: str
    scene_id: str
    room: str | None = Field(default=None, description="None when recalled on all its lights.")
