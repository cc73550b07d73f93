"""A fake Google Calendar v3 and OAuth token endpoint on 127.0.0.1, for tests and the demo.

It enforces what Google does where a wrong client would notice: bearer tokens it issued (401
otherwise), the events scope for writes (403 ``insufficientPermissions``), refresh grants
(``invalid_grant`` once revoked), paging, ``orderBy=startTime`` only with ``singleEvents``,
recurring series expanded into instances with their own ids, and exceptions to them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from angie_mcp_core.fakes import Reply, Request
from angie_mcp_core.google.testing import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeGoogle,
    insufficient_scopes,
)
from angie_mcp_core.google.testing import google_error as _error
from angie_mcp_core.tokens import TokenFile

__all__ = ("CLIENT_ID", "CLIENT_SECRET", "EVENTS", "READONLY", "FakeGoogleCalendar", "demo")

READONLY: Final = "https://www.googleapis.com/auth/calendar.readonly"
EVENTS: Final = "https://www.googleapis.com/auth/calendar.events"
_WRITE_SCOPES: Final = {EVENTS, "https://www.googleapis.com/auth/calendar"}
_API: Final = "/calendar/v3"


def _when(value: dict[str, Any]) -> datetime:
    if "date" in value:
        return datetime.fromisoformat(value["date"]).replace(tzinfo=UTC)
    return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))


def _instance_suffix(start: datetime, all_day: bool) -> str:
    return start.strftime("%Y%m%d") if all_day else start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class FakeGoogleCalendar(FakeGoogle):
    """Google Calendar for one account (``me@example.com``) with a primary calendar.

    ``add_calendar``/``add_event`` seed it; ``sign_in(scopes)`` issues tokens and returns what
    ``angie-mcp-gcal auth`` would store; ``revoke(refresh_token)`` makes its refresh fail with
    ``invalid_grant``; ``expire_access_tokens()`` makes every access token a 401. ``page_size``
    caps the events a page holds. ``calendars``/``events`` hold the state; ``sent_updates``
    records each write's ``sendUpdates``.
    """

    default_scopes = (READONLY,)

    def __init__(self, time_zone: str = "Europe/Paris") -> None:
        super().__init__()
        self.calendars: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        self.page_size = 250
        self.sent_updates: list[str] = []
        self.add_calendar(self.me, "Me", time_zone, primary=True)

    # -- seeding and control -----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}{_API}/"

    def add_calendar(
        self, cal_id: str, name: str, time_zone: str, *, primary: bool = False
    ) -> None:
        with self.lock:
            self.calendars[cal_id] = {
                "id": cal_id,
                "summary": name,
                "timeZone": time_zone,
                "accessRole": "owner",
                "primary": primary,
            }
            self.events.setdefault(cal_id, {})

    def add_event(self, cal_id: str = "", **fields: Any) -> dict[str, Any]:
        """Store an event resource (``summary``, ``start``, ``end``, ``recurrence``, …)."""
        with self.lock:
            return self._insert(cal_id or self.me, fields)

    def _insert(self, cal_id: str, body: dict[str, Any]) -> dict[str, Any]:
        event = {
            "kind": "calendar#event",
            "status": "confirmed",
            "reminders": {"useDefault": True},
            "organizer": {"email": self.me, "self": True},
            **body,
            "id": body.get("id") or secrets.token_hex(10),
        }
        event["htmlLink"] = f"https://calendar.google.com/event?eid={event['id']}"
        event.setdefault("exceptions", {})
        self.events[cal_id][event["id"]] = event
        return event

    # -- HTTP --------------------------------------------------------------------------------

    def api(self, request: Request, scopes: set[str] | None) -> Reply:
        if not request.path.startswith(_API + "/"):
            return _error(404, "notFound", "Not Found")
        if scopes is None:
            return self.unauthorised()
        parts = [p for p in request.path.removeprefix(_API).split("/") if p]
        write = request.method in {"POST", "PATCH", "PUT", "DELETE"} and parts != ["freeBusy"]
        if write and not scopes & _WRITE_SCOPES:
            return insufficient_scopes()
        return self._route(request, parts)

    def _route(self, request: Request, parts: list[str]) -> Reply:
        q = {k: v[-1] for k, v in request.query.items()}
        if parts[:3] == ["users", "me", "calendarList"]:
            if len(parts) == 4:
                cal = self._calendar(parts[3])
                return Reply.json(200, cal) if cal else _error(404, "notFound", "Not Found")
            return self._page(list(self.calendars.values()), q, 100)
        if parts == ["freeBusy"] and request.method == "POST":
            return self._freebusy(request.json())
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            return _error(404, "notFound", "Not Found")
        cal = self._calendar(parts[1])
        if cal is None:
            return _error(404, "notFound", "Not Found")
        events = self.events[cal["id"]]
        if len(parts) == 3 and request.method == "GET":
            return self._list(cal, q)
        if len(parts) == 3 and request.method == "POST":
            body = request.json()
            if not isinstance(body, dict) or "start" not in body or "end" not in body:
                return _error(400, "required", "Missing start or end.")
            self.sent_updates.append(q.get("sendUpdates", "false"))
            return Reply.json(200, self._view(self._insert(cal["id"], body), q))
        found = self._find(events, parts[3])
        if found is None:
            return _error(404, "notFound", "Not Found")
        series, occurrence = found
        if len(parts) == 5 and parts[4] == "instances":
            return self._page(self._expand(series, None, None), q, self.page_size, view=q)
        current = occurrence or series
        if current.get("status") == "cancelled":
            return _error(410, "deleted", "Resource has been deleted")
        if request.method == "GET":
            return Reply.json(200, self._view(current, q))
        self.sent_updates.append(q.get("sendUpdates", "false"))
        if request.method == "DELETE":
            self._change(series, occurrence, {"status": "cancelled"})
            return Reply(204)
        if request.method == "PATCH":
            return Reply.json(200, self._view(self._change(series, occurrence, request.json()), q))
        return _error(405, "methodNotAllowed", "Method not allowed")

    def _calendar(self, cal_id: str) -> dict[str, Any] | None:
        if cal_id == "primary":
            return self.calendars[self.me]
        return self.calendars.get(cal_id)

    def _find(
        self, events: dict[str, dict[str, Any]], event_id: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        if event_id in events:
            return events[event_id], None
        series_id, _, _suffix = event_id.rpartition("_")
        series = events.get(series_id)
        if series is None:
            return None
        for instance in self._expand(series, None, None, cancelled=True):
            if instance["id"] == event_id:
                return series, instance
        return None

    def _change(
        self, series: dict[str, Any], occurrence: dict[str, Any] | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        if occurrence is None:
            if body.get("status") == "cancelled":
                series["status"] = "cancelled"
            series.update({k: v for k, v in body.items() if k != "id"})
            return series
        # An exception: this occurrence keeps its id and originalStartTime, changed fields win.
        changed = {**occurrence, **{k: v for k, v in body.items() if k != "id"}}
        series["exceptions"][occurrence["id"]] = changed
        return changed

    def _expand(
        self,
        series: dict[str, Any],
        low: datetime | None,
        high: datetime | None,
        *,
        cancelled: bool = False,
    ) -> list[dict[str, Any]]:
        """The series' occurrences (with exceptions applied) overlapping [low, high)."""
        if not series.get("recurrence"):
            return [series]
        all_day = "date" in series["start"]
        zone = ZoneInfo(series["start"].get("timeZone") or self.calendars[self.me]["timeZone"])
        first = _when(series["start"])
        first = first if all_day else first.astimezone(zone)
        length = _when(series["end"]) - _when(series["start"])
        # rrulestr wants naive wall times with a naive UNTIL; Google gives UNTIL in UTC.
        lines = [
            line.replace("Z", "") if line.startswith("RRULE") else line
            for line in series["recurrence"]
        ]
        rule = rrulestr("\n".join(lines), dtstart=first.replace(tzinfo=None), forceset=True)
        out: list[dict[str, Any]] = []
        for count, wall in enumerate(rule):
            if count > 1000:
                break
            start = wall.replace(tzinfo=UTC if all_day else zone)
            end = start + length
            if high is not None and start >= high:
                break
            if low is not None and end <= low:
                continue
            iid = f"{series['id']}_{_instance_suffix(start, all_day)}"
            when = (
                {"date": start.date().isoformat()}
                if all_day
                else {"dateTime": start.isoformat(), "timeZone": str(zone)}
            )
            instance = {
                **{k: v for k, v in series.items() if k not in {"recurrence", "exceptions", "id"}},
                "id": iid,
                "recurringEventId": series["id"],
                "originalStartTime": when,
                "start": when,
                "end": {"date": end.date().isoformat()}
                if all_day
                else {"dateTime": end.isoformat(), "timeZone": str(zone)},
            }
            instance = series["exceptions"].get(iid, instance)
            if instance.get("status") != "cancelled" or cancelled:
                out.append(instance)
        return out

    def _view(self, event: dict[str, Any], q: dict[str, str]) -> dict[str, Any]:
        shown = {k: v for k, v in event.items() if k != "exceptions"}
        zone = q.get("timeZone")
        for key in ("start", "end"):
            if zone and "dateTime" in shown.get(key, {}):
                moved = _when(shown[key]).astimezone(ZoneInfo(zone)).isoformat()
                shown[key] = {**shown[key], "dateTime": moved}
        return shown

    def _list(self, cal: dict[str, Any], q: dict[str, str]) -> Reply:
        single = q.get("singleEvents") == "true"
        if q.get("orderBy") == "startTime" and not single:
            return _error(
                400, "invalid", "The requested ordering is not available for the particular query."
            )
        low = datetime.fromisoformat(q["timeMin"]) if "timeMin" in q else None
        high = datetime.fromisoformat(q["timeMax"]) if "timeMax" in q else None
        found: list[dict[str, Any]] = []
        for event in self.events[cal["id"]].values():
            if event.get("status") == "cancelled":
                continue
            if single:
                found += self._expand(event, low, high)
            elif (low is None or _when(event["end"]) > low) and (
                high is None or _when(event["start"]) < high
            ):
                found.append(event)
        if "q" in q:
            words = q["q"].lower().split()
            found = [e for e in found if all(w in json.dumps(e).lower() for w in words)]
        found.sort(key=lambda e: _when(e["start"]))
        return self._page(found, q, self.page_size, view=q)

    def _page(
        self,
        items: list[dict[str, Any]],
        q: dict[str, str],
        cap: int,
        view: dict[str, str] | None = None,
    ) -> Reply:
        size = min(int(q.get("maxResults", cap)), cap)
        offset = int(q.get("pageToken", "0") or 0)
        page = items[offset : offset + size]
        body: dict[str, Any] = {"items": [self._view(i, view or {}) for i in page]}
        if offset + size < len(items):
            body["nextPageToken"] = str(offset + size)
        return Reply.json(200, body)

    def _freebusy(self, body: dict[str, Any]) -> Reply:
        low = datetime.fromisoformat(body["timeMin"])
        high = datetime.fromisoformat(body["timeMax"])
        answer: dict[str, Any] = {}
        for item in body.get("items", []):
            cal = self._calendar(item["id"])
            if cal is None:
                answer[item["id"]] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            busy = []
            for event in self.events[cal["id"]].values():
                if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                    continue
                for inst in self._expand(event, low, high):
                    busy.append(
                        {
                            "start": _when(inst["start"]).astimezone(UTC).isoformat(),
                            "end": _when(inst["end"]).astimezone(UTC).isoformat(),
                        }
                    )
            answer[item["id"]] = {"busy": sorted(busy, key=lambda b: b["start"])}
        return Reply.json(200, {"kind": "calendar#freeBusy", "calendars": answer})

    # -- OAuth -------------------------------------------------------------------------------


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo home's Google Calendar (a week with a stand-up, a lunch and an invitation) on
    127.0.0.1 while the block runs, connected read-only; yields the server's settings."""
    with FakeGoogleCalendar() as fake:
        zone = ZoneInfo("Europe/Paris")
        today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)

        def at(days: int, hour: float) -> dict[str, str]:
            return {
                "dateTime": (today + timedelta(days=days, hours=hour)).isoformat(),
                "timeZone": "Europe/Paris",
            }

        fake.add_event(
            summary="Stand-up",
            start=at(0, 9),
            end=at(0, 9.25),
            recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
        )
        fake.add_event(summary="Lunch with Sam", start=at(1, 12), end=at(1, 13), location="Café Oz")
        fake.add_event(
            summary="Quarterly review",
            start=at(2, 15),
            end=at(2, 16),
            organizer={"email": "boss@example.com"},
            attendees=[
                {"email": "boss@example.com", "organizer": True, "responseStatus": "accepted"},
                {"email": fake.me, "self": True, "responseStatus": "needsAction"},
            ],
        )
        token_file = state_dir / "tokens.enc"
        TokenFile(token_file).save(fake.sign_in())
        yield {
            "ANGIE_GCAL_CLIENT_ID": CLIENT_ID,
            "ANGIE_GCAL_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_GCAL_API_URL": fake.api_url,
            "ANGIE_GCAL_TOKEN_URI": fake.token_uri,
            "ANGIE_GCAL_AUTH_URI": fake.auth_uri,
            "ANGIE_GCAL_TOKEN_FILE": str(token_file),
        }
