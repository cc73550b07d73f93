"""What an MCP server tells Angie about itself, found through the ``angie.servers`` entry point.

Angie reads every installed server's manifest at start, so this module imports only the
standard library: discovering a server must not import fastmcp or its vendor SDK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ("ENTRY_POINT_GROUP", "ContentTrust", "Scope", "ServerManifest")

#: The entry-point group a server package registers its manifest under.
ENTRY_POINT_GROUP = "angie.servers"

#: ``household``: one account shared by the home (the lights); ``personal``: each user's own.
Scope = Literal["household", "personal"]
#: ``untrusted``: tool outputs carry text written by third parties (issues, mail, web pages).
ContentTrust = Literal["trusted", "untrusted"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerManifest:
    """One server: its name, how far its content is trusted, and the agent that uses it."""

    name: str
    scope: Scope
    content_trust: ContentTrust
    #: What the server's agent does, one sentence shown to Angie's router and to the user.
    description: str
    #: The agent's prompt in Angie's prompt library, e.g. ``agents/hue.md``.
    prompt: str
    #: Settings a person gives by signing in (its settings' ``typed_credentials``): a person's
    #: own instance never reads the household's values of them from the environment.
    typed_credentials: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"server name {self.name!r} must be lower-case letters, digits and _ "
                "(starting with a letter, at most 64): it prefixes the tool names"
            )
        if self.scope not in get_args(Scope):
            raise ValueError(
                f"{self.name}: scope {self.scope!r} must be one of {', '.join(get_args(Scope))}"
            )
        if self.content_trust not in get_args(ContentTrust):
            raise ValueError(
                f"{self.name}: content_trust {self.content_trust!r} must be one of "
                + ", ".join(get_args(ContentTrust))
            )
        if not self.description.strip():
            raise ValueError(f"{self.name}: the agent's description must not be empty")
        if not self.prompt.endswith(".md"):
            raise ValueError(f"{self.name}: prompt {self.prompt!r} must name a .md template")

    @property
    def env_prefix(self) -> str:
        """The prefix the server's settings read, e.g. ``ANGIE_HUE_``."""
        return f"ANGIE_{self.name.upper()}_"

    @property
    def module(self) -> str:
        """The package that runs the server with ``python -m``."""
        return f"angie_mcp_{self.name}"
