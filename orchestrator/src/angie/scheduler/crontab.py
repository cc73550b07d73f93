"""Standard 5-field crontabs, with cron's own numbering, turned into APScheduler triggers.

Cron counts weekdays from Sunday (0 and 7 both mean Sunday), APScheduler from Monday: every field
is expanded here and handed over as explicit values or names, so nothing is renumbered by accident.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from cron_descriptor import Options, get_description

from angie import timezones
from angie.scheduler.errors import CronError
from angie.scheduler.trigger import WallClockTrigger

__all__ = (
    "MACROS",
    "describe",
    "in_words",
    "next_fire_times",
    "normalise",
    "parse_crontab",
    "zone",
)

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Cron's order; APScheduler accepts the same names, which is why weekdays are handed over by name.
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# The longest each month can be (February in a leap year): a day beyond it never comes.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

MACROS: Mapping[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_ITEM = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


@dataclass(frozen=True, slots=True)
class _Field:
    label: str
    low: int
    high: int
    hint: str
    names: Mapping[str, int] = field(default_factory=dict)


_MINUTE = _Field("minute", 0, 59, "0-59")
_HOUR = _Field("hour", 0, 23, "0-23")
_DAY = _Field("day-of-month", 1, 31, "1-31")
_MONTH = _Field("month", 1, 12, "1-12 or jan-dec", {name: i + 1 for i, name in enumerate(_MONTHS)})
_WEEKDAY = _Field(
    "day-of-week",
    0,
    7,
    "0-7 (0 and 7 are Sunday) or sun-sat",
    {name: i for i, name in enumerate(_DAYS)},
)


def _value(spec: _Field, token: str, text: str) -> int:
    if token.isdigit():
        value = int(token)
    elif token in spec.names:
        return spec.names[token]
    else:
        raise CronError(
            f"The {spec.label} field {text!r} has {token!r}, which is not {spec.hint}.",
            field=spec.label,
        )
    if not spec.low <= value <= spec.high:
        raise CronError(
            f"The {spec.label} field {text!r} has {value}, outside {spec.hint}.", field=spec.label
        )
    return value


def _expand(spec: _Field, text: str) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise CronError(
                f"The {spec.label} field {text!r} is not valid: use *, a value, a range like "
                f"1-5, a step like */15, or a list like 1,3,5.",
                field=spec.label,
            )
        step = int(match["step"]) if match["step"] is not None else 1
        if step < 1:
            raise CronError(
                f"The {spec.label} field {text!r} has a step of 0; a step is at least 1.",
                field=spec.label,
            )
        span = match["range"]
        if span == "*":
            first, last = spec.low, spec.high
        elif "-" in span:
            start, end = span.split("-")
            first, last = _value(spec, start, text), _value(spec, end, text)
            if first > last:
                raise CronError(
                    f"The {spec.label} field {text!r} has a range that runs backwards "
                    f"({start}-{end}).",
                    field=spec.label,
                )
        else:
            first = _value(spec, span, text)
            # "5/15" is cron shorthand for "5-59/15".
            last = spec.high if match["step"] is not None else first
        values.update(range(first, last + 1, step))
    return values


def _numbers(values: set[int], spec: _Field) -> str:
    if values >= set(range(spec.low, spec.high + 1)):
        return "*"
    return ",".join(str(v) for v in sorted(values))


def _weekdays(values: set[int]) -> str:
    days = {v % 7 for v in values}  # 7 is Sunday, as 0 is
    return "*" if len(days) == 7 else ",".join(_DAYS[d] for d in sorted(days))


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The IANA timezone called ``name``; anything else is a :class:`CronError`."""
    try:
        return timezones.zone(name)
    except timezones.UnknownTimezone as err:
        raise CronError(err.message, field="timezone") from None


def normalise(expression: str) -> str:
    """The crontab as stored: lower case, single spaces, macros kept as written."""
    return " ".join(expression.split()).lower()


def parse_crontab(expression: str, timezone: str = "UTC") -> WallClockTrigger:
    """A trigger that fires when ``expression`` would fire under cron, in ``timezone``.

    When day-of-month and day-of-week are both restricted (neither starts with ``*``), cron
    fires on days matching *either*, so the wall-clock trigger is the OR of two cron triggers.
    """
    tz = zone(timezone)
    text = normalise(expression)
    if text.startswith("@"):
        if text not in MACROS:
            raise CronError(
                f"{expression.strip()!r} is not supported; use @hourly, @daily, @weekly, "
                f"@monthly or @yearly.",
                field="crontab",
            )
        text = MACROS[text]
    parts = text.split(" ") if text else []
    if len(parts) != 5:
        raise CronError(
            f"A crontab has five fields (minute hour day-of-month month day-of-week), "
            f"but {expression.strip()!r} has {len(parts)}.",
            field="crontab",
        )
    minute, hour, day, month, weekday = parts
    days = _expand(_DAY, day)
    months = _expand(_MONTH, month)
    common = {
        "minute": _numbers(_expand(_MINUTE, minute), _MINUTE),
        "hour": _numbers(_expand(_HOUR, hour), _HOUR),
        "month": _numbers(months, _MONTH),
        # Wall-clock time: WallClockTrigger places each answer in the real zone.
        "timezone": UTC,
    }
    on_days = _numbers(days, _DAY)
    on_weekdays = _weekdays(_expand(_WEEKDAY, weekday))
    if not day.startswith("*") and not weekday.startswith("*"):
        either = [
            CronTrigger(day=on_days, **common),
            CronTrigger(day_of_week=on_weekdays, **common),
        ]
        return WallClockTrigger(OrTrigger(either), tz)
    if min(days) > max(_MONTH_DAYS[m - 1] for m in months):
        raise CronError(
            f"The crontab {expression.strip()!r} never fires: none of its months has day "
            f"{min(days)}.",
            field=_DAY.label,
        )
    return WallClockTrigger(CronTrigger(day=on_days, day_of_week=on_weekdays, **common), tz)


def next_fire_times(trigger: WallClockTrigger, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times at or after ``after``, in the trigger's timezone."""
    times: list[datetime] = []
    previous: datetime | None = None
    now = after
    while len(times) < count:
        fire_time: datetime | None = trigger.get_next_fire_time(previous, now)
        if fire_time is None:
            break
        times.append(fire_time)
        previous = now = fire_time
    return times


def describe(trigger: WallClockTrigger, after: datetime, count: int = 3) -> str:
    """The next fire times as one line for a listing, e.g. ``Mon 30 Mar 2026 09:00 CEST, …``."""
    times = next_fire_times(trigger, after, count)
    if not times:
        return "never fires again"
    return ", ".join(t.strftime("%a %d %b %Y %H:%M %Z") for t in times)


def in_words(expression: str) -> str:
    """A valid crontab in words, e.g. ``At 07:00, Monday through Friday`` (cron-descriptor,
    24-hour clock); a macro is described as the crontab it stands for."""
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    text = normalise(expression)
    return str(get_description(MACROS.get(text, text), options))
