"""Google Calendar v3 through google-api-python-client: calendars, events, free time, changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from angie_mcp_core.errors import InvalidArgumentError
from angie_mcp_core.google.account import GoogleAccount
from angie_mcp_core.server import Probed
from angie_mcp_core.vendor import VendorClient
from angie_mcp_gcal.events import EventDraft, body_of, event_of
from angie_mcp_gcal.models import Calendar, Deleted, Event, EventList, FreeSlot, SlotSearch
from angie_mcp_gcal.scopes import GCAL
from angie_mcp_gcal.settings import GcalSettings
from angie_mcp_gcal.times import free_periods, merge, parse_time, parse_zone, within_hours

__all__ = ("MAX_EVENTS", "SERVICE", "GcalClient", "Response")

SERVICE: Final = GCAL.name
MAX_EVENTS: Final = 250
_PAGE: Final = 250
Response = Literal["accepted", "declined", "tentative"]


class GcalClient(VendorClient):
    """One Google account's calendars. Methods block; call them with ``call_blocking``."""

    def __init__(
        self, settings: GcalSettings, *, api_url: str | None = None, token_uri: str | None = None
    ) -> None:
        self._settings = settings
        self._account = GoogleAccount(settings, GCAL, api_url=api_url, token_uri=token_uri)
        self._zones: dict[str, str] = {}

    def close(self) -> None:
        self._account.close()

    def _call[T](self, fn: Callable[[Any], T], *, write: bool = False) -> T:
        return self._account.call(fn, write=write)

    def _list(self, resource: str, **params: Any) -> dict[str, Any]:
        """One page of a collection (``calendarList``, ``events``)."""
        page: dict[str, Any] = self._call(lambda s: getattr(s, resource)().list(**params).execute())
        return page

    def _zone(self, calendar: str) -> ZoneInfo:
        """The zone for wall times: the setting, else the calendar's own zone."""
        if self._settings.timezone:
            return parse_zone(self._settings.timezone)
        if calendar not in self._zones:
            entry = self._call(lambda s: s.calendarList().get(calendarId=calendar).execute())
            self._zones[calendar] = entry.get("timeZone") or "UTC"
        return parse_zone(self._zones[calendar])

    # -- status --------------------------------------------------------------------------------

    def probe(self) -> Probed:
        """Who is signed in, with which scopes, and until when the sign-in lasts."""
        entry = self._call(lambda s: s.calendarList().get(calendarId="primary").execute())
        return self._account.probed(str(entry.get("id")))

    # -- reading -------------------------------------------------------------------------------

    def calendars(self) -> list[Calendar]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._list("calendarList", pageToken=token, maxResults=_PAGE)
            items += page.get("items", [])
            token = page.get("nextPageToken")
            if not token:
                break
        return [
            Calendar(
                id=c["id"],
                name=c.get("summaryOverride") or c.get("summary") or c["id"],
                time_zone=c.get("timeZone"),
                primary=bool(c.get("primary")),
                access_role=c.get("accessRole", "reader"),
            )
            for c in items
        ]

    def events(
        self, calendar: str, start: str, end: str, query: str | None, limit: int
    ) -> EventList:
        zone = self._zone(calendar)
        low, high = parse_time(start, zone), parse_time(end, zone)
        if high <= low:
            raise InvalidArgumentError("The end of the range must be after its start.")
        found: list[dict[str, Any]] = []
        token: str | None = None
        truncated = False
        while True:
            size = min(_PAGE, limit + 1 - len(found))
            page = self._list(
                "events",
                calendarId=calendar,
                timeMin=low.isoformat(),
                timeMax=high.isoformat(),
                # Each occurrence of a recurring event on its own, as people read an agenda.
                singleEvents=True,
                orderBy="startTime",
                q=query,
                timeZone=str(zone),
                maxResults=size,
                pageToken=token,
            )
            found += page.get("items", [])
            token = page.get("nextPageToken")
            if len(found) > limit:
                truncated, found = True, found[:limit]
                break
            if not token:
                break
        return EventList(
            time_zone=str(zone),
            events=[event_of(item, calendar, zone) for item in found],
            truncated=truncated,
        )

    def find_slots(
        self,
        calendars: list[str],
        start: str,
        end: str,
        minutes: int,
        day_start: time,
        day_end: time,
        weekends: bool,
        limit: int,
    ) -> SlotSearch:
        zone = self._zone(calendars[0])
        low, high = parse_time(start, zone), parse_time(end, zone)
        if high <= low:
            raise InvalidArgumentError("The end of the range must be after its start.")
        if day_end <= day_start:
            raise InvalidArgumentError("day_end must be after day_start.")
        answer = self._call(
            lambda s: (
                s.freebusy()
                .query(
                    body={
                        "timeMin": low.isoformat(),
                        "timeMax": high.isoformat(),
                        "timeZone": str(zone),
                        "items": [{"id": c} for c in calendars],
                    }
                )
                .execute()
            )
        )
        busy: list[tuple[datetime, datetime]] = []
        for calendar_id, found in answer.get("calendars", {}).items():
            if found.get("errors"):
                reason = found["errors"][0].get("reason", "unknown")
                raise InvalidArgumentError(
                    f"The free/busy of {calendar_id!r} cannot be read ({reason}); check the id "
                    "with list_calendars."
                )
            busy += [
                (parse_time(b["start"], zone), parse_time(b["end"], zone))
                for b in found.get("busy", [])
            ]
        windows = within_hours(low, high, zone, day_start, day_end, weekends)
        free = free_periods(windows, busy, timedelta(minutes=minutes))

        def slot(period: tuple[datetime, datetime]) -> FreeSlot:
            a, b = (t.astimezone(zone) for t in period)
            return FreeSlot(
                start=a.isoformat(), end=b.isoformat(), minutes=int((b - a).total_seconds() // 60)
            )

        return SlotSearch(
            time_zone=str(zone),
            busy=[slot(p) for p in merge(busy)],
            slots=[slot(p) for p in free[:limit]],
        )

    # -- writing -------------------------------------------------------------------------------

    def create(self, calendar: str, draft: EventDraft, notify: bool) -> Event:
        zone = self._zone(calendar)
        body = body_of(draft, zone)
        if "start" not in body or "end" not in body:
            raise InvalidArgumentError("A new event needs a start and an end.")
        item = self._call(
            lambda s: (
                s.events()
                .insert(calendarId=calendar, body=body, sendUpdates=_updates(notify))
                .execute()
            ),
            write=True,
        )
        return event_of(item, calendar, zone)

    def update(self, calendar: str, event_id: str, draft: EventDraft, notify: bool) -> Event:
        zone = self._zone(calendar)
        body = body_of(draft, zone)
        if ("start" in body) != ("end" in body):
            raise InvalidArgumentError("Moving an event needs both its new start and end.")
        if draft.add_attendees:
            current = self._call(
                lambda s: s.events().get(calendarId=calendar, eventId=event_id).execute()
            )
            known = {a.get("email", "").lower() for a in current.get("attendees", [])}
            body["attendees"] = current.get("attendees", []) + [
                {"email": e} for e in draft.add_attendees if e.lower() not in known
            ]
        if not body:
            raise InvalidArgumentError("Give at least one thing to change.")
        item = self._call(
            lambda s: (
                s.events()
                .patch(
                    calendarId=calendar, eventId=event_id, body=body, sendUpdates=_updates(notify)
                )
                .execute()
            ),
            write=True,
        )
        return event_of(item, calendar, zone)

    def delete(self, calendar: str, event_id: str, notify: bool) -> Deleted:
        self._call(
            lambda s: (
                s.events()
                .delete(
                    calendarId=calendar, eventId=event_id, sendUpdates="all" if notify else "none"
                )
                .execute()
            ),
            write=True,
        )
        return Deleted(event_id=event_id, calendar_id=calendar, notified_guests=notify)

    def respond(self, calendar: str, event_id: str, response: Response) -> Event:
        zone = self._zone(calendar)
        current = self._call(
            lambda s: s.events().get(calendarId=calendar, eventId=event_id).execute()
        )
        attendees = current.get("attendees", [])
        if not any(a.get("self") for a in attendees):
            raise InvalidArgumentError("The user is not a guest of this event; nothing to answer.")
        answered = [{**a, "responseStatus": response} if a.get("self") else a for a in attendees]
        item = self._call(
            lambda s: (
                s.events()
                .patch(
                    calendarId=calendar,
                    eventId=event_id,
                    body={"attendees": answered},
                    sendUpdates="all",
                )
                .execute()
            ),
            write=True,
        )
        return event_of(item, calendar, zone)


def _updates(notify: bool) -> str:
    return "all" if notify else "none"
