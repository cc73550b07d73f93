"""Times as the model gives them and as Google wants them: zones, all-day dates, free slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from angie_mcp_core.errors import InvalidArgumentError

__all__ = (
    "free_periods",
    "is_date",
    "merge",
    "parse_time",
    "parse_zone",
    "to_zone",
    "within_hours",
)


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidArgumentError(
            f"{name!r} is not an IANA time zone; give one like 'Europe/Paris'."
        ) from err


def is_date(text: str) -> bool:
    """Whether ``text`` is a bare date (an all-day boundary), not a date and time."""
    return len(text.strip()) == 10 and "T" not in text


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """An aware datetime from ISO 8601; without an offset it is a wall time in ``zone``."""
    value = text.strip()
    try:
        if is_date(value):
            return datetime.combine(date.fromisoformat(value), time(), zone)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise InvalidArgumentError(
            f"{text!r} is not an ISO 8601 date or time; give e.g. '2026-12-04T09:30' "
            "(the calendar's zone), '2026-12-04T09:30:00+01:00' or '2026-12-04'."
        ) from err
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def to_zone(rfc3339: str, zone: ZoneInfo) -> str:
    """Google's RFC 3339 time as ISO 8601 in ``zone`` (seconds precision)."""
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(zone).isoformat()


def merge(periods: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching periods joined, sorted by start."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def within_hours(
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    day_start: time,
    day_end: time,
    weekends: bool,
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) inside the daily window, day by day in ``zone``."""
    windows: list[tuple[datetime, datetime]] = []
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if weekends or day.weekday() < 5:
            # Wall-clock times: across a DST change the window keeps its hours.
            low = max(start, datetime.combine(day, day_start, zone))
            high = min(end, datetime.combine(day, day_end, zone))
            if low < high:
                windows.append((low, high))
        day += timedelta(days=1)
    return windows


def free_periods(
    windows: list[tuple[datetime, datetime]],
    busy: list[tuple[datetime, datetime]],
    minimum: timedelta,
) -> list[tuple[datetime, datetime]]:
    """The free parts of ``windows`` around ``busy``, each at least ``minimum`` long."""
    taken = merge(busy)
    free: list[tuple[datetime, datetime]] = []
    for low, high in windows:
        cursor = low
        for b_start, b_end in taken:
            if b_end <= cursor or b_start >= high:
                continue
            if b_start - cursor >= minimum:
                free.append((cursor, b_start))
            cursor = max(cursor, b_end)
        if high - cursor >= minimum:
            free.append((cursor, high))
    return free
