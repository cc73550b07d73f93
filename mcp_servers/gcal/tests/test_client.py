"""The Google Calendar client through the real google-api-python-client, against the fake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from angie_mcp_gcal.client import GcalClient
from angie_mcp_gcal.events import EventDraft
from angie_mcp_gcal.settings import GcalSettings
from angie_mcp_gcal.testing import EVENTS, READONLY, FakeGoogleCalendar

from angie_mcp_core.errors import InvalidArgumentError, RateLimitedError, UpstreamError
from angie_mcp_core.fakes import Reply
from angie_mcp_core.google.account import token_file
from angie_mcp_core.google.errors import NotSignedInError, WriteAccessError

MakeSettings = Callable[..., GcalSettings]
SignIn = Callable[..., dict[str, Any]]
ClientFor = Callable[[GcalSettings], GcalClient]


def paris(day: str, clock: str) -> dict[str, str]:
    return {"dateTime": f"{day}T{clock}:00+01:00", "timeZone": "Europe/Paris"}


def posts(fake: FakeGoogleCalendar) -> list[str]:
    return [r.method for r in fake.log if r.method in {"POST", "PATCH", "DELETE"}]


# -- reading -----------------------------------------------------------------------------------


def test_lists_the_calendars(fake: FakeGoogleCalendar, gcal: GcalClient) -> None:
    fake.add_calendar("family@group.calendar.google.com", "Family", "America/New_York")
    found = {c.id: c for c in gcal.calendars()}
    assert found["me@example.com"].primary
    assert found["family@group.calendar.google.com"].time_zone == "America/New_York"


def test_events_are_read_in_the_calendars_zone(fake: FakeGoogleCalendar, gcal: GcalClient) -> None:
    fake.add_event(summary="Dentist", start={"dateTime": "2026-12-07T08:00:00Z"},
                   end={"dateTime": "2026-12-07T08:30:00Z"})  # fmt: skip
    listing = gcal.events("primary", "2026-12-07", "2026-12-08", None, 50)
    assert listing.time_zone == "Europe/Paris"
    [event] = listing.events
    assert (event.title, event.start, event.end) == (
        "Dentist", "2026-12-07T09:00:00+01:00", "2026-12-07T09:30:00+01:00",
    )  # fmt: skip
    # The bare dates were midnight in Paris, not in UTC.
    [listed] = [r for r in fake.log if r.path.endswith("/events")]
    assert listed.query["timeMin"] == ["2026-12-07T00:00:00+01:00"]


def test_an_explicit_zone_setting_wins_over_the_calendars(
    fake: FakeGoogleCalendar, make_settings: MakeSettings, sign_in: SignIn, client_for: ClientFor
) -> None:
    settings = make_settings(timezone="Asia/Tokyo")
    sign_in(settings)
    fake.add_event(summary="Call", start={"dateTime": "2026-12-07T08:00:00Z"},
                   end={"dateTime": "2026-12-07T09:00:00Z"})  # fmt: skip
    with client_for(settings) as client:
        [event] = client.events("primary", "2026-12-07T00:00", "2026-12-08T00:00", None, 5).events
    assert event.start == "2026-12-07T17:00:00+09:00"


def test_events_are_read_across_pages(fake: FakeGoogleCalendar, gcal: GcalClient) -> None:
    fake.page_size = 2
    for hour in range(9, 14):
        fake.add_event(summary=f"Slot {hour}", start=paris("2026-12-07", f"{hour:02}:00"),
                       end=paris("2026-12-07", f"{hour:02}:30"))  # fmt: skip
    listing = gcal.events("primary", "2026-12-07", "2026-12-08", None, 50)
    assert [e.title for e in listing.events] == [f"Slot {h}" for h in range(9, 14)]
    assert not listing.truncated
    tokens = [r.query.get("pageToken") for r in fake.log if r.path.endswith("/events")]
    assert tokens == [None, ["2"], ["4"]]


def test_a_limit_truncates_and_says_so(fake: FakeGoogleCalendar, gcal: GcalClient) -> None:
    for hour in range(9, 14):
        fake.add_event(summary=f"Slot {hour}", start=paris("2026-12-07", f"{hour:02}:00"),
                       end=paris("2026-12-07", f"{hour:02}:30"))  # fmt: skip
    listing = gcal.events("primary", "2026-12-07", "2026-12-08", None, 3)
    assert (len(listing.events), listing.truncated) == (3, True)


def test_a_search_only_returns_matching_events(fake: FakeGoogleCalendar, gcal: GcalClient) -> None:
    fake.add_event(
        summary="Yoga", start=paris("2026-12-07", "18:00"), end=paris("2026-12-07", "19:00")
    )
    fake.add_event(
        summary="Dinner", start=paris("2026-12-07", "20:00"), end=paris("2026-12-07", "21:00")
    )
    listing = gcal.events("primary", "2026-12-07", "2026-12-08", "yoga", 10)
    assert [e.title for e in listing.events] == ["Yoga"]


def test_a_weekly_series_keeps_its_wall_time_across_the_dst_change(
    fake: FakeGoogleCalendar, gcal: GcalClient
) -> None:
    series = fake.add_event(summary="Swim", start=paris("2027-03-22", "09:00"),
                            end=paris("2027-03-22", "10:00"),
                            recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])  # fmt: skip
    events = gcal.events("primary", "2027-03-20", "2027-04-10", None, 10).events
    assert [e.start for e in events] == [
        "2027-03-22T09:00:00+01:00", "2027-03-29T09:00:00+02:00", "2027-04-05T09:00:00+02:00",
    ]  # fmt: skip
    assert {e.recurring_event_id for e in events} == {series["id"]}
    assert len({e.id for e in events}) == 3


def test_a_range_that_ends_before_it_starts_is_refused(gcal: GcalClient) -> None:
    with pytest.raises(InvalidArgumentError, match="after its start"):
        gcal.events("primary", "2026-12-08", "2026-12-07", None, 10)


def test_a_time_that_is_not_iso_is_refused_with_an_example(gcal: GcalClient) -> None:
    with pytest.raises(InvalidArgumentError, match="ISO 8601"):
        gcal.events("primary", "next tuesday", "2026-12-07", None, 10)


# -- finding a slot ----------------------------------------------------------------------------


def test_finds_the_slots_every_calendar_has_free_in_working_hours(
    fake: FakeGoogleCalendar, gcal: GcalClient
) -> None:
    fake.add_calendar("sam@example.com", "Sam", "Europe/Paris")
    fake.add_event(
        summary="Mine", start=paris("2026-12-04", "10:00"), end=paris("2026-12-04", "12:00")
    )
    fake.add_event("sam@example.com", summary="Sam's", start=paris("2026-12-04", "11:30"),
                   end=paris("2026-12-04", "14:00"))  # fmt: skip
    found = gcal.find_slots(
        ["primary", "sam@example.com"], "2026-12-04", "2026-12-08", 60, time(9), time(18), False, 10
    )
    assert [(s.start, s.end) for s in found.slots] == [
        ("2026-12-04T09:00:00+01:00", "2026-12-04T10:00:00+01:00"),
        ("2026-12-04T14:00:00+01:00", "2026-12-04T18:00:00+01:00"),
        # Saturday and Sunday are skipped.
        ("2026-12-07T09:00:00+01:00", "2026-12-07T18:00:00+01:00"),
    ]
    assert [(b.start, b.end) for b in found.busy] == [
        ("2026-12-04T10:00:00+01:00", "2026-12-04T14:00:00+01:00")
    ]


def test_a_gap_shorter_than_the_meeting_is_not_a_slot(
    fake: FakeGoogleCalendar, gcal: GcalClient
) -> None:
    fake.add_event(
        summary="A", start=paris("2026-12-07", "09:00"), end=paris("2026-12-07", "12:00")
    )
    fake.add_event(
        summary="B", start=paris("2026-12-07", "12:30"), end=paris("2026-12-07", "18:00")
    )
    found = gcal.find_slots(
        ["primary"], "2026-12-07", "2026-12-08", 45, time(9), time(18), False, 10
    )
    assert found.slots == []


def test_a_calendar_whose_free_busy_cannot_be_read_is_named(gcal: GcalClient) -> None:
    with pytest.raises(InvalidArgumentError, match=r"nobody@example\.com"):
        gcal.find_slots(["primary", "nobody@example.com"], "2026-12-07", "2026-12-08", 30,
                        time(9), time(18), False, 10)  # fmt: skip


# -- writing -----------------------------------------------------------------------------------


def test_creates_an_event_and_invites_its_guests(
    fake: FakeGoogleCalendar, gcal_writer: GcalClient
) -> None:
    draft = EventDraft(title="Planning", start="2026-12-07T14:00", end="2026-12-07T15:00",
                       attendees=["sam@example.com"], reminders=[10])  # fmt: skip
    event = gcal_writer.create("primary", draft, notify=True)
    assert (event.start, event.reminders) == ("2026-12-07T14:00:00+01:00", [10])
    assert [a.email for a in event.attendees] == ["sam@example.com"]
    assert fake.sent_updates == ["all"]
    stored = fake.events["me@example.com"][event.id]
    assert stored["start"] == {"dateTime": "2026-12-07T14:00:00+01:00", "timeZone": "Europe/Paris"}


def test_creates_an_all_day_event_from_dates(gcal_writer: GcalClient) -> None:
    event = gcal_writer.create(
        "primary", EventDraft(title="Holiday", start="2026-12-24", end="2026-12-26"), notify=False
    )
    assert (event.all_day, event.start, event.end) == (True, "2026-12-24", "2026-12-26")


def test_a_recurrence_line_that_is_not_rfc5545_is_refused(gcal_writer: GcalClient) -> None:
    draft = EventDraft(title="X", start="2026-12-07T09:00", end="2026-12-07T10:00",
                       recurrence=["every monday"])  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="RRULE:FREQ=WEEKLY"):
        gcal_writer.create("primary", draft, notify=False)


def test_a_read_only_sign_in_cannot_write_and_google_is_not_asked(
    fake: FakeGoogleCalendar, make_settings: MakeSettings, sign_in: SignIn, client_for: ClientFor
) -> None:
    settings = make_settings(writes=True)
    sign_in(settings)  # read-only scope
    draft = EventDraft(title="X", start="2026-12-07T09:00", end="2026-12-07T10:00")
    with client_for(settings) as client, pytest.raises(WriteAccessError, match="auth"):
        client.create("primary", draft, notify=False)
    assert posts(fake) == []


def test_googles_insufficient_permissions_is_the_same_clear_error(
    fake: FakeGoogleCalendar, make_settings: MakeSettings, sign_in: SignIn, client_for: ClientFor
) -> None:
    settings = make_settings(writes=True)
    # The file claims the events scope, Google only granted reading.
    stored = sign_in(settings)
    token_file(settings).save({**stored, "scopes": [READONLY, EVENTS]})
    draft = EventDraft(title="X", start="2026-12-07T09:00", end="2026-12-07T10:00")
    with client_for(settings) as client, pytest.raises(WriteAccessError):
        client.create("primary", draft, notify=False)
    assert posts(fake) == ["POST"]


def test_changing_one_occurrence_leaves_the_rest_of_the_series(
    fake: FakeGoogleCalendar, gcal_writer: GcalClient
) -> None:
    daily = ["RRULE:FREQ=DAILY;COUNT=3"]
    fake.add_event(summary="Stand-up", start=paris("2026-12-07", "09:00"),
                   end=paris("2026-12-07", "09:15"), recurrence=daily)  # fmt: skip
    _, second, _ = gcal_writer.events("primary", "2026-12-07", "2026-12-10", None, 10).events
    moved = gcal_writer.update(
        "primary", second.id,
        EventDraft(start="2026-12-08T10:00", end="2026-12-08T10:15", title="Late stand-up"),
        notify=False,
    )  # fmt: skip
    assert (moved.id, moved.recurring_event_id) == (second.id, second.recurring_event_id)
    after = gcal_writer.events("primary", "2026-12-07", "2026-12-10", None, 10).events
    assert [(e.title, e.start[11:16]) for e in after] == [
        ("Stand-up", "09:00"), ("Late stand-up", "10:00"), ("Stand-up", "09:00"),
    ]  # fmt: skip


def test_deleting_one_occurrence_removes_only_it(
    fake: FakeGoogleCalendar, gcal_writer: GcalClient
) -> None:
    daily = ["RRULE:FREQ=DAILY;COUNT=3"]
    fake.add_event(summary="Stand-up", start=paris("2026-12-07", "09:00"),
                   end=paris("2026-12-07", "09:15"), recurrence=daily)  # fmt: skip
    events = gcal_writer.events("primary", "2026-12-07", "2026-12-10", None, 10).events
    gcal_writer.delete("primary", events[0].id, notify=False)
    after = gcal_writer.events("primary", "2026-12-07", "2026-12-10", None, 10).events
    assert [e.id for e in after] == [e.id for e in events[1:]]


def test_deleting_an_event_twice_says_it_is_gone(
    fake: FakeGoogleCalendar, gcal_writer: GcalClient
) -> None:
    event = fake.add_event(
        summary="Once", start=paris("2026-12-07", "09:00"), end=paris("2026-12-07", "10:00")
    )
    gcal_writer.delete("primary", event["id"], notify=True)
    assert fake.sent_updates == ["all"]
    with pytest.raises(Exception, match="already deleted"):
        gcal_writer.delete("primary", event["id"], notify=True)


def test_answers_an_invitation(fake: FakeGoogleCalendar, gcal_writer: GcalClient) -> None:
    invite = fake.add_event(
        summary="Review", start=paris("2026-12-07", "15:00"), end=paris("2026-12-07", "16:00"),
        organizer={"email": "boss@example.com"},
        attendees=[{"email": "boss@example.com", "organizer": True, "responseStatus": "accepted"},
                   {"email": "me@example.com", "self": True, "responseStatus": "needsAction"}],
    )  # fmt: skip
    event = gcal_writer.respond("primary", invite["id"], "accepted")
    assert event.my_response == "accepted"
    assert (
        fake.events["me@example.com"][invite["id"]]["attendees"][0]["responseStatus"] == "accepted"
    )


# -- tokens ------------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_saved_encrypted(
    fake: FakeGoogleCalendar, make_settings: MakeSettings, sign_in: SignIn, client_for: ClientFor
) -> None:
    settings = make_settings()
    before = sign_in(settings, expiry="2020-01-01T00:00:00+00:00")
    with client_for(settings) as client:
        client.calendars()
    after = token_file(settings).load()
    assert after is not None
    assert after["token"] != before["token"]
    assert after["refresh_token"] == before["refresh_token"]
    assert before["token"].encode() not in settings.token_path().read_bytes()
    assert fake.log[0].path == "/token"


def test_a_token_google_no_longer_accepts_is_refreshed_on_the_401(
    fake: FakeGoogleCalendar, gcal: GcalClient, reader: GcalSettings
) -> None:
    gcal.calendars()
    fake.expire_access_tokens()
    assert gcal.calendars()
    stored = token_file(reader).load()
    assert stored is not None
    assert [r.path for r in fake.log].count("/token") == 1


def test_a_revoked_sign_in_says_to_reconnect_gcal(
    fake: FakeGoogleCalendar, gcal: GcalClient, reader: GcalSettings
) -> None:
    stored = token_file(reader).load()
    assert stored is not None
    fake.revoke(stored["refresh_token"])
    with pytest.raises(NotSignedInError, match="Reconnect gcal: run `angie-mcp-gcal auth`"):
        gcal.calendars()


def test_without_a_sign_in_the_error_says_to_run_auth(
    make_settings: MakeSettings, client_for: ClientFor
) -> None:
    with client_for(make_settings()) as client, pytest.raises(NotSignedInError, match="auth"):
        client.calendars()


def test_a_token_file_under_another_key_says_to_reconnect(
    make_settings: MakeSettings, sign_in: SignIn, client_for: ClientFor
) -> None:
    sign_in(make_settings())
    other = make_settings(token_key="another-key-0123456789abcdef")
    with client_for(other) as client, pytest.raises(NotSignedInError, match="decrypted"):
        client.calendars()


def test_the_probe_names_the_account_scopes_and_the_testing_expiry(gcal: GcalClient) -> None:
    probed = gcal.probe()
    line = probed.upstream
    assert "me@example.com" in line
    assert "scopes: calendar.readonly" in line
    assert "7-day limit" in line
    assert probed.sign_in is not None
    assert probed.sign_in.account == "me@example.com"
    assert probed.sign_in.scopes == [READONLY]
    assert probed.sign_in.renew_with == "angie-mcp-gcal auth"
    assert probed.sign_in.expires_at is not None
    left = probed.sign_in.expires_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)


def test_a_published_app_has_no_expiry_in_the_probe(
    make_settings: MakeSettings, sign_in: SignIn, client_for: ClientFor
) -> None:
    settings: GcalSettings = make_settings(testing_app=False)
    sign_in(settings)
    with client_for(settings) as client:
        probed = client.probe()
    assert "expires" not in probed.upstream
    assert probed.sign_in is not None
    assert probed.sign_in.expires_at is None


# -- Google's failures -------------------------------------------------------------------------


def test_a_rate_limit_is_reported_with_googles_retry_after(
    fake: FakeGoogleCalendar, gcal: GcalClient
) -> None:
    body = {"error": {"code": 429, "message": "Rate Limit Exceeded",
                      "errors": [{"reason": "rateLimitExceeded"}]}}  # fmt: skip
    fake.inject(Reply.json(429, body, {"Retry-After": "7"}), path="/calendar/v3/users")
    with pytest.raises(RateLimitedError, match="7 seconds"):
        gcal.calendars()


def test_a_server_error_is_an_upstream_error_not_a_traceback(
    fake: FakeGoogleCalendar, gcal: GcalClient
) -> None:
    fake.inject(Reply.json(503, {"error": {"code": 503, "message": "Backend Error"}}))
    with pytest.raises(UpstreamError, match="HTTP 503"):
        gcal.calendars()


def test_an_unknown_event_says_how_to_find_the_id(gcal_writer: GcalClient) -> None:
    with pytest.raises(UpstreamError, match="list_events"):
        gcal_writer.delete("primary", "no-such-event", notify=False)
