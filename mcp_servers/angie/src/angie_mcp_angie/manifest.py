"""How Angie finds her own manager server: its name, trust and the agents that use it.

Read through the ``angie.servers`` entry point; imports nothing but the kit's manifest type.
The fleet gives this server one agent per tool group (crons, tasks, workflows, events).
"""

from __future__ import annotations

from angie_mcp_core.manifest import ServerManifest

__all__ = ("MANIFEST",)

MANIFEST = ServerManifest(
    name="angie",
    # The household's: one process, its API token from its settings; no per-person sign-in.
    scope="household",
    # The person's own crons and workflows: reading them must not taint the run that then adds
    # one. Task results can quote outside text; an admin can mark the server untrusted.
    content_trust="trusted",
    description="Angie herself: crons, tasks, workflows and events of the person.",
    prompt="agents/angie.md",
)
