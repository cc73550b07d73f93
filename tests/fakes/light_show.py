"""A light show for the kill loop: the hue agent, asked for a ``show``, makes :data:`STEPS`
side-effecting calls one after another — idempotent ``set_light`` calls (each its own light
and brightness) with a non-idempotent ``activate_scene`` now and then — then answers.

The script is a function of the run's messages only, so a run made again from scratch after a
crash asks for the very same calls in the same order, as a real model given the same
request would try to.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)

__all__ = ("SCENES", "STEPS", "show_step", "step_call")

STEPS = 40
# Step → (scene, room): each scene recalled once, so every bridge PUT names one step.
SCENES: dict[int, tuple[str, str]] = {
    6: ("Relax", "Living room"),
    16: ("Relax", "Kitchen"),
    26: ("Concentrate", "Kitchen"),
    36: ("Nightlight", "Living room"),
}
_LIGHTS = ("Sofa lamp", "Floor lamp")


def step_call(step: int) -> tuple[str, dict[str, Any]]:
    """The call the show makes at ``step`` (0-based)."""
    if step in SCENES:
        scene, room = SCENES[step]
        return "hue_activate_scene", {"name": scene, "room": room}
    return "hue_set_light", {"name": _LIGHTS[step % 2], "on": True, "brightness_percent": step + 1}


def show_step(messages: list[ModelMessage]) -> ModelResponse:
    """The next call of the show, or its end once every step has its answer."""
    answered = sum(
        isinstance(part, ToolReturnPart | RetryPromptPart)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    if answered >= STEPS:
        return ModelResponse(parts=[TextPart(f"the show is over after {answered} steps")])
    tool, args = step_call(answered)
    return ModelResponse(parts=[ToolCallPart(tool, args)])
