"""How Angie finds the Spotify server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

MANIFEST = ServerManifest(
    name="spotify",
    scope="personal",
    content_trust="trusted",
    description="Spotify: what is playing, playback, devices and playlists.",
    prompt="agents/spotify.md",
)
