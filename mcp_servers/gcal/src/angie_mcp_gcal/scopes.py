"""The OAuth scopes Angie asks Google for: read-only first, the events scope only for writes;
and what tells Google Calendar from the other Google servers."""

from __future__ import annotations

from typing import Final

from angie_mcp_core.google.service import GoogleService

__all__ = ("EVENTS", "GCAL", "READONLY")

READONLY: Final = "https://www.googleapis.com/auth/calendar.readonly"
# Create, change and delete events (and answer invitations); not calendars or sharing.
EVENTS: Final = "https://www.googleapis.com/auth/calendar.events"
# The full scope also allows everything the events scope does.
_FULL: Final = "https://www.googleapis.com/auth/calendar"

GCAL: Final = GoogleService(
    name="Google Calendar",
    server="gcal",
    api="calendar",
    version="v3",
    api_url="https://www.googleapis.com/calendar/v3/",
    read=(READONLY,),
    write=(EVENTS,),
    write_grants=frozenset({EVENTS, _FULL}),
    changes="events",
    not_found="no such event or calendar (check the id with list_events)",
    gone="the event was already deleted",
)
