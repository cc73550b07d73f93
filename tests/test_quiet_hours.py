"""Quiet hours as a person's schedule document states them, and when they end."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from angie.channels.quiet import QuietHours


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Quiet hours (no messages unless it is urgent): 22:00 to 07:00.", time(22), time(7)),
        ("quiet hours: 23h30 - 6h15", time(23, 30), time(6, 15)),
        ("Quiet hours: 10pm to 6am", time(22), time(6)),
        ("Quiet hours: 13:00 until 14:00", time(13), time(14)),
    ],
)
def test_quiet_hours_are_read_from_the_schedule(text: str, start: time, end: time) -> None:
    quiet = QuietHours.parse(f"# Schedule\n\nTimezone: UTC.\n\n{text}", "UTC")
    assert quiet == QuietHours(start, end, "UTC")


@pytest.mark.parametrize(
    "text", ["No quiet hours.", "Quiet hours: whenever I say so", "Quiet hours: 25:00 to 07:00"]
)
def test_no_or_unreadable_quiet_hours_hold_nothing(text: str) -> None:
    assert QuietHours.parse(text, "UTC") is None


def test_overnight_quiet_hours_end_the_next_morning_in_the_persons_timezone() -> None:
    quiet = QuietHours(time(22), time(7), "Europe/Paris")
    # 23:30 in Paris (22:30 UTC in winter): held until 07:00 Paris, 06:00 UTC.
    late = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    assert quiet.until(late) == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    # 05:00 in Paris: until 07:00 the same day.
    early = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    assert quiet.until(early) == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    # 12:00 in Paris: not quiet.
    assert quiet.until(datetime(2026, 12, 5, 11, 0, tzinfo=UTC)) is None


def test_daytime_quiet_hours() -> None:
    quiet = QuietHours(time(13), time(14), "UTC")
    assert quiet.until(datetime(2026, 12, 4, 13, 30, tzinfo=UTC)) == datetime(
        2026, 12, 4, 14, 0, tzinfo=UTC
    )
    assert quiet.until(datetime(2026, 12, 4, 14, 0, tzinfo=UTC)) is None
