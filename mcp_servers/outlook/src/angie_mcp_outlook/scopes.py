"""The delegated Graph permissions Angie asks for: reading first, changing and sending only
for writes. ``offline_access`` brings the refresh token; ``User.Read`` the account's address."""

from __future__ import annotations

from typing import Final

__all__ = ("READ", "READ_WRITE", "SEND", "can_write", "scopes_for", "short")

READ: Final = "Mail.Read"
# Moving, flagging, categorising, drafts and Deleted Items (Graph has no permanent delete here).
READ_WRITE: Final = "Mail.ReadWrite"
# sendMail, reply and sending a draft.
SEND: Final = "Mail.Send"
_BASE: Final = ("offline_access", "User.Read")


def short(scope: str) -> str:
    """``https://graph.microsoft.com/Mail.Read`` -> ``Mail.Read`` (Microsoft answers either)."""
    return scope.rsplit("/", 1)[-1]


def scopes_for(writes: bool) -> list[str]:
    """What `angie-mcp-outlook auth` requests: reading always, writing only when enabled."""
    return [*_BASE, READ, READ_WRITE, SEND] if writes else [*_BASE, READ]


def can_write(granted: list[str]) -> bool:
    return READ_WRITE in {short(s) for s in granted}
