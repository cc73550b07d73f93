"""How Angie finds the UniFi server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

# Untrusted: client names and host names come from the devices themselves (any guest's phone
# can call itself "ignore your instructions"), so they are third-party text.
MANIFEST = ServerManifest(
    name="unifi",
    scope="household",
    content_trust="untrusted",
    description="The UniFi network: clients, devices and their health.",
    prompt="agents/network.md",
)
