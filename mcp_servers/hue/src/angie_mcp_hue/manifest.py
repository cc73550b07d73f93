"""How Angie finds the Philips Hue server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

MANIFEST = ServerManifest(
    name="hue",
    scope="household",
    content_trust="trusted",
    description="Philips Hue lights: rooms, brightness, colour and scenes.",
    prompt="agents/hue.md",
)
