"""The OAuth scopes Angie asks Google for: read-only first, modify and compose only for writes."""

from __future__ import annotations

from typing import Final

__all__ = ("COMPOSE", "MODIFY", "READONLY", "can_write", "scopes_for")

READONLY: Final = "https://www.googleapis.com/auth/gmail.readonly"
# Labels, archive, trash (never permanent deletion) and marking read or starred.
MODIFY: Final = "https://www.googleapis.com/auth/gmail.modify"
# Drafts and sending.
COMPOSE: Final = "https://www.googleapis.com/auth/gmail.compose"
# The full scope also allows everything the others do.
_FULL: Final = "https://mail.google.com/"


def scopes_for(writes: bool) -> list[str]:
    """What `angie-mcp-gmail auth` requests: reading always, writing only when enabled."""
    return [READONLY, MODIFY, COMPOSE] if writes else [READONLY]


def can_write(granted: list[str]) -> bool:
    return MODIFY in granted or _FULL in granted
