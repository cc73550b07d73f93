"""How Angie finds the Google Calendar server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

# Untrusted: event titles, descriptions and invitations are written by third parties.
MANIFEST = ServerManifest(
    name="gcal",
    scope="personal",
    content_trust="untrusted",
    description="Google Calendar: agenda, free time and events.",
    prompt="agents/calendar.md",
)
