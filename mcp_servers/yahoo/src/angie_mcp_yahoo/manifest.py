"""How Angie finds the Yahoo Mail server: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

# Untrusted: every mail is written by someone else.
MANIFEST = ServerManifest(
    name="yahoo",
    scope="personal",
    content_trust="untrusted",
    description="Yahoo Mail: search, read, draft, reply and file one mailbox.",
    prompt="agents/email.md",
    typed_credentials=("address", "app_password"),
)
