"""What tells one Google server from another: its API, its scopes and the words of its errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ("GoogleService",)


@dataclass(frozen=True, slots=True)
class GoogleService:
    """One Google API as an Angie server serves it.

    ``read`` are the scopes `auth` always asks for, ``write`` those it adds when writing is
    enabled, and ``write_grants`` the scopes any one of which allows writing (the narrow write
    scope or the full one). ``changes`` and ``not_found`` are the words of its errors.
    """

    name: str  # "Gmail"
    server: str  # "gmail"
    api: str  # "gmail", the discovery document's name
    version: str  # "v1"
    api_url: str  # Google's root URL of the API
    read: tuple[str, ...]
    write: tuple[str, ...]
    write_grants: frozenset[str]
    changes: str  # "mail": "the sign-in lacks permission to change mail"
    not_found: str
    gone: str | None = None  # what a 410 means, for an API that answers one

    @property
    def auth_command(self) -> str:
        return f"angie-mcp-{self.server} auth"

    def env(self, field: str) -> str:
        """The environment variable of one of the server's settings."""
        return f"ANGIE_{self.server.upper()}_{field.upper()}"

    def scopes_for(self, writes: bool) -> list[str]:
        """What `auth` requests: reading always, writing only when enabled."""
        return [*self.read, *self.write] if writes else list(self.read)

    def can_write(self, granted: Iterable[str]) -> bool:
        return not self.write_grants.isdisjoint(granted)
