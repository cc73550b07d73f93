"""How Angie finds the Outlook server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

# Untrusted: every mail is written by someone else.
MANIFEST = ServerManifest(
    name="outlook",
    scope="personal",
    content_trust="untrusted",
    description="Outlook / Office 365: search, read, draft, send and file mail.",
    prompt="agents/email.md",
)
