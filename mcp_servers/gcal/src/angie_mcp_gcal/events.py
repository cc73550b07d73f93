"""Google's event resources to Angie's models and back: times, guests, reminders, recurrence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from angie_mcp_core.errors import InvalidArgumentError
from angie_mcp_gcal.models import Attendee, Event
from angie_mcp_gcal.times import is_date, parse_time, to_zone

__all__ = ("EventDraft", "body_of", "event_of")

_RULE = re.compile(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]\S+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDraft:
    """What a create or update sets; None leaves a field as it is."""

    title: str | None = None
    start: str | None = None
    end: str | None = None
    description: str | None = None
    location: str | None = None
    attendees: list[str] = field(default_factory=list)
    add_attendees: list[str] = field(default_factory=list)
    recurrence: list[str] | None = None
    reminders: list[int] | None = None


def _when(text: str, zone: ZoneInfo) -> dict[str, str]:
    if is_date(text):
        parse_time(text, zone)  # validates the date
        return {"date": text.strip()}
    # The zone goes along: Google needs it to expand a recurring event's wall times.
    return {"dateTime": parse_time(text, zone).isoformat(), "timeZone": str(zone)}


def body_of(draft: EventDraft, zone: ZoneInfo) -> dict[str, Any]:
    """The event resource fields a draft sets."""
    body: dict[str, Any] = {}
    if draft.title is not None:
        body["summary"] = draft.title
    if draft.description is not None:
        body["description"] = draft.description
    if draft.location is not None:
        body["location"] = draft.location
    if draft.start is not None and draft.end is not None:
        if is_date(draft.start) != is_date(draft.end):
            raise InvalidArgumentError(
                "Give start and end both as dates (an all-day event) or both as times."
            )
        start, end = _when(draft.start, zone), _when(draft.end, zone)
        low = parse_time(draft.start, zone)
        high = parse_time(draft.end, zone)
        if high <= low:
            raise InvalidArgumentError(
                "The end must be after the start (an all-day event ends the day after)."
            )
        body["start"], body["end"] = start, end
    elif draft.start is not None or draft.end is not None:
        body["start" if draft.start is not None else "end"] = _when(
            draft.start or draft.end or "", zone
        )
    if draft.attendees:
        body["attendees"] = [{"email": e} for e in draft.attendees]
    if draft.recurrence is not None:
        bad = [r for r in draft.recurrence if not _RULE.match(r.strip())]
        if bad:
            raise InvalidArgumentError(
                f"{bad[0]!r} is not a recurrence line; give e.g. 'RRULE:FREQ=WEEKLY;BYDAY=MO'."
            )
        body["recurrence"] = [r.strip() for r in draft.recurrence]
    if draft.reminders is not None:
        body["reminders"] = {
            "useDefault": False,
            "overrides": [{"method": "popup", "minutes": m} for m in draft.reminders],
        }
    return body


def _time(value: dict[str, Any], zone: ZoneInfo) -> str:
    return str(value["date"]) if "date" in value else to_zone(value["dateTime"], zone)


def event_of(item: dict[str, Any], calendar: str, zone: ZoneInfo) -> Event:
    attendees = [
        Attendee(
            email=a.get("email", ""),
            name=a.get("displayName"),
            response=a.get("responseStatus", "needsAction"),
            is_me=bool(a.get("self")),
            organizer=bool(a.get("organizer")),
        )
        for a in item.get("attendees", [])
    ]
    reminders = item.get("reminders") or {}
    return Event(
        id=item["id"],
        calendar_id=calendar,
        title=item.get("summary", "(no title)"),
        start=_time(item.get("start", {}), zone) if item.get("start") else "",
        end=_time(item.get("end", {}), zone) if item.get("end") else "",
        all_day="date" in item.get("start", {}),
        status=item.get("status", "confirmed"),
        location=item.get("location"),
        description=item.get("description"),
        organizer=(item.get("organizer") or {}).get("email"),
        attendees=attendees,
        my_response=next((a.response for a in attendees if a.is_me), None),
        recurrence=list(item.get("recurrence", [])),
        recurring_event_id=item.get("recurringEventId"),
        reminders=None
        if reminders.get("useDefault", True)
        else [int(o["minutes"]) for o in reminders.get("overrides", [])],
        link=item.get("htmlLink"),
    )
