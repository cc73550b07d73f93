"""The OAuth scopes Angie asks Google for: read-only first, the events scope only for writes."""

from __future__ import annotations

from typing import Final

__all__ = ("EVENTS", "READONLY", "can_write", "scopes_for")

READONLY: Final = "https://www.googleapis.com/auth/calendar.readonly"
# Create, change and delete events (and answer invitations); not calendars or sharing.
EVENTS: Final = "https://www.googleapis.com/auth/calendar.events"
# The full scope also allows everything the events scope does.
_FULL: Final = "https://www.googleapis.com/auth/calendar"


def scopes_for(writes: bool) -> list[str]:
    """What `angie-mcp-gcal auth` requests: reading always, writing only when enabled."""
    return [READONLY, EVENTS] if writes else [READONLY]


def can_write(granted: list[str]) -> bool:
    return EVENTS in granted or _FULL in granted
