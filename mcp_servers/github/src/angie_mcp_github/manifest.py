"""How Angie finds the GitHub server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

MANIFEST = ServerManifest(
    name="github",
    scope="personal",
    content_trust="untrusted",
    description="GitHub: notifications, issues, pull requests and CI runs.",
    prompt="agents/github.md",
    typed_credentials=("api_token",),
)
