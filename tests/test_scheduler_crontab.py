"""Crontabs: cron's own numbering, names, steps and lists, clear errors, timezones and DST."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from angie.db.models import MisfirePolicy
from angie.scheduler.crontab import describe, next_fire_times, parse_crontab
from angie.scheduler.errors import CronError
from angie.scheduler.misfire import ON_TIME, is_catch_up, job_options

# Friday 6 March 2026, 00:00 UTC: far from any DST change.
FRIDAY = datetime(2026, 3, 6, tzinfo=UTC)


def _utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _fires(expression: str, count: int, *, after: datetime = FRIDAY, tz: str = "UTC") -> list[str]:
    times = next_fire_times(parse_crontab(expression, tz), after, count)
    return [t.astimezone(UTC).strftime("%a %d %H:%M") for t in times]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 9 * * 0", ["Sun 08 09:00", "Sun 15 09:00"]),
        ("0 9 * * 7", ["Sun 08 09:00", "Sun 15 09:00"]),
        ("0 9 * * sun", ["Sun 08 09:00", "Sun 15 09:00"]),
        ("0 9 * * 1", ["Mon 09 09:00", "Mon 16 09:00"]),
        ("0 9 * * 6", ["Sat 07 09:00", "Sat 14 09:00"]),
        ("0 9 * * 5-7", ["Fri 06 09:00", "Sat 07 09:00", "Sun 08 09:00", "Fri 13 09:00"]),
        ("0 9 * * */2", ["Sat 07 09:00", "Sun 08 09:00", "Tue 10 09:00", "Thu 12 09:00"]),
        ("0 9 * * MON,Wed", ["Mon 09 09:00", "Wed 11 09:00"]),
    ],
)
def test_day_of_week_uses_crons_numbering(expression: str, expected: list[str]) -> None:
    assert _fires(expression, len(expected)) == expected


@pytest.mark.parametrize("expression", ["30 8 * * 1-5", "30 8 * * mon-fri"])
def test_weekdays_fire_monday_to_friday(expression: str) -> None:
    assert _fires(expression, 6) == [
        "Fri 06 08:30",
        "Mon 09 08:30",
        "Tue 10 08:30",
        "Wed 11 08:30",
        "Thu 12 08:30",
        "Fri 13 08:30",
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/20 * * * *", ["Fri 06 00:00", "Fri 06 00:20", "Fri 06 00:40", "Fri 06 01:00"]),
        ("5/15 * * * *", ["Fri 06 00:05", "Fri 06 00:20", "Fri 06 00:35", "Fri 06 00:50"]),
        ("0 8-17/4 * * *", ["Fri 06 08:00", "Fri 06 12:00", "Fri 06 16:00", "Sat 07 08:00"]),
        ("0 0 1,15 * *", ["Sun 15 00:00", "Wed 01 00:00"]),
        ("0 12 1 jan,APR *", ["Wed 01 12:00"]),
        ("@hourly", ["Fri 06 00:00", "Fri 06 01:00"]),
        ("@daily", ["Fri 06 00:00", "Sat 07 00:00"]),
        ("@weekly", ["Sun 08 00:00", "Sun 15 00:00"]),
        ("@monthly", ["Wed 01 00:00"]),
        ("  0   9  *  *  1  ", ["Mon 09 09:00"]),
    ],
)
def test_steps_ranges_lists_names_and_macros(expression: str, expected: list[str]) -> None:
    assert _fires(expression, len(expected)) == expected


def test_day_of_month_and_day_of_week_both_set_fire_on_either() -> None:
    # cron's rule: the 1st of the month OR every Monday (not Mondays that are the 1st).
    assert _fires("0 0 1 * mon", 4, after=_utc(2026, 3, 27)) == [
        "Mon 30 00:00",
        "Wed 01 00:00",
        "Mon 06 00:00",
        "Mon 13 00:00",
    ]


def test_a_starred_day_field_keeps_both_conditions() -> None:
    # "*/2" starts with "*", so cron ANDs it: odd days that are Mondays.
    assert _fires("0 0 */2 * 1", 2) == ["Mon 09 00:00", "Mon 23 00:00"]


@pytest.mark.parametrize(
    ("expression", "field", "message"),
    [
        ("61 * * * *", "minute", "The minute field '61' has 61, outside 0-59."),
        ("0 24 * * *", "hour", "The hour field '24' has 24, outside 0-23."),
        ("0 0 0 * *", "day-of-month", "The day-of-month field '0' has 0, outside 1-31."),
        ("0 0 * 13 *", "month", "The month field '13' has 13, outside 1-12 or jan-dec."),
        (
            "0 0 * * 8",
            "day-of-week",
            "The day-of-week field '8' has 8, outside 0-7 (0 and 7 are Sunday) or sun-sat.",
        ),
        (
            "0 0 * * funday",
            "day-of-week",
            "The day-of-week field 'funday' has 'funday', which is not 0-7 (0 and 7 are Sunday) "
            "or sun-sat.",
        ),
        (
            "0 0 * smarch *",
            "month",
            "The month field 'smarch' has 'smarch', which is not 1-12 or jan-dec.",
        ),
        ("5-2 * * * *", "minute", "The minute field '5-2' has a range that runs backwards (5-2)."),
        ("*/0 * * * *", "minute", "The minute field '*/0' has a step of 0; a step is at least 1."),
        ("1,,2 * * * *", "minute", "The minute field '1,,2' is not valid"),
        ("0 9 * *", "crontab", "A crontab has five fields"),
        ("0 9 * * * *", "crontab", "but '0 9 * * * *' has 6."),
        ("", "crontab", "but '' has 0."),
        ("@reboot", "crontab", "'@reboot' is not supported"),
        ("0 0 30 2 *", "day-of-month", "never fires: none of its months has day 30."),
    ],
)
def test_a_bad_field_is_named_in_one_sentence(expression: str, field: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse_crontab(expression)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert str(caught.value).endswith(".")


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "utc", "", "localtime", "../etc/passwd", "Europe"]
)
def test_an_unknown_timezone_is_an_error(name: str) -> None:
    with pytest.raises(CronError, match="is not a known timezone") as caught:
        parse_crontab("0 9 * * *", name)
    assert caught.value.field == "timezone"


def test_fire_times_follow_the_timezone_across_the_spring_change() -> None:
    # Europe/Paris moves to summer time on Sunday 29 March 2026: 09:00 is 08:00 UTC, then 07:00.
    times = next_fire_times(parse_crontab("0 9 * * *", "Europe/Paris"), _utc(2026, 3, 28), 3)
    assert [t.astimezone(UTC) for t in times] == [
        _utc(2026, 3, 28, 8),
        _utc(2026, 3, 29, 7),
        _utc(2026, 3, 30, 7),
    ]
    assert [t.strftime("%H:%M %Z") for t in times] == ["09:00 CET", "09:00 CEST", "09:00 CEST"]


def test_a_monthly_tick_after_a_dst_change_is_not_lost() -> None:
    # APScheduler's own CronTrigger answers 1 May here; cron fires on 1 April.
    times = next_fire_times(parse_crontab("0 0 1 * *", "Europe/Paris"), _utc(2026, 3, 27), 2)
    assert [t.strftime("%d %b %H:%M %Z") for t in times] == [
        "01 Apr 00:00 CEST",
        "01 May 00:00 CEST",
    ]


def test_a_time_the_spring_change_skips_fires_once_after_the_jump() -> None:
    times = next_fire_times(parse_crontab("30 2 * * *", "Europe/Paris"), _utc(2026, 3, 28, 12), 2)
    assert [t.strftime("%d %H:%M %Z") for t in times] == ["29 03:30 CEST", "30 02:30 CEST"]


def test_a_time_the_autumn_change_repeats_fires_once() -> None:
    # On 25 October 2026 02:00-02:59 happens twice in Paris (CEST, then CET).
    trigger = parse_crontab("30 * * * *", "Europe/Paris")
    times = next_fire_times(trigger, _utc(2026, 10, 24, 23), 4)
    assert [t.astimezone(UTC).strftime("%H:%M") for t in times] == [
        "23:30",
        "00:30",
        "02:30",
        "03:30",
    ]


def test_weekday_numbers_hold_in_another_timezone() -> None:
    # 0-4 is Sunday to Thursday, in US/Central across its 14 March 2021 change.
    trigger = parse_crontab("0 0 * * 0-4", "America/Chicago")
    times = next_fire_times(trigger, datetime(2021, 3, 12, 6, 0, 1, tzinfo=UTC), 3)
    assert [t.strftime("%a %d %H:%M %Z") for t in times] == [
        "Sun 14 00:00 CST",
        "Mon 15 00:00 CDT",
        "Tue 16 00:00 CDT",
    ]


def test_a_trigger_survives_pickling() -> None:
    trigger = parse_crontab("0 0 1 * mon", "Europe/Paris")
    copy = pickle.loads(pickle.dumps(trigger))  # noqa: S301 - our own object, as the job store does
    assert repr(copy) == repr(trigger)
    after = _utc(2026, 3, 27)
    assert next_fire_times(copy, after, 5) == next_fire_times(trigger, after, 5)


def test_describe_lists_the_next_fire_times_in_the_zone() -> None:
    trigger = parse_crontab("0 9 * * 1-5", "Europe/Paris")
    assert describe(trigger, _utc(2026, 3, 27, 12), 2) == (
        "Mon 30 Mar 2026 09:00 CEST, Tue 31 Mar 2026 09:00 CEST"
    )


def test_run_once_never_has_less_grace_than_on_time() -> None:
    assert job_options(MisfirePolicy.RUN_ONCE, 0).misfire_grace_time == ON_TIME.total_seconds()
    assert job_options(MisfirePolicy.RUN_ONCE, 7200).misfire_grace_time == 7200
    assert job_options(MisfirePolicy.SKIP, 7200).misfire_grace_time == ON_TIME.total_seconds()


def test_a_run_is_a_catch_up_only_when_well_late() -> None:
    tick = _utc(2026, 3, 6, 9)
    assert not is_catch_up(tick, tick + ON_TIME)
    assert is_catch_up(tick, tick + ON_TIME * 2)
