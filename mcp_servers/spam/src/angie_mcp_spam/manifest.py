"""How Angie finds the spam scorer: its name, trust and the agent that uses it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

# Untrusted: its answers quote senders, subjects and link text written by whoever sent the mail.
MANIFEST = ServerManifest(
    name="spam",
    # The household's: it cleans the mailbox its settings name, and has no per-person sign-in.
    scope="household",
    content_trust="untrusted",
    description="Spam clean-up: finds and removes junk mail safely.",
    prompt="agents/spam.md",
)
