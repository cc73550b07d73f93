"""How Angie finds the Home Assistant server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

MANIFEST = ServerManifest(
    name="home_assistant",
    scope="household",
    content_trust="trusted",
    description="Home Assistant: the state of the home's devices, and calling their services.",
    prompt="agents/home_assistant.md",
)
