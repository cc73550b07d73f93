"""Quiet hours: the hours a person asked Angie to stay quiet unless it is urgent (the setup
interview writes them into their schedule document, which they can edit any time). Results of
work nobody was waiting for (a cron, a webhook) are held until the quiet hours end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import Prompt, PromptKind, User
from angie.timezones import UnknownTimezone, zone

__all__ = ("QuietHours", "quiet_hours_of")

_LINE = re.compile(r"quiet hours[^:\n]*:\s*(?P<span>[^\n]*)", re.IGNORECASE)
_SPAN = re.compile(
    r"(?P<h1>\d{1,2})(?:[:h.](?P<m1>\d{2}))?\s*(?P<p1>am|pm)?\s*(?:to|-|\u2013|until)\s*"
    r"(?P<h2>\d{1,2})(?:[:h.](?P<m2>\d{2}))?\s*(?P<p2>am|pm)?",
    re.IGNORECASE,
)


def _clock(hour: str, minute: str | None, half: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    if half:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    if h == 24 and m == 0:
        h = 0
    if not (0 <= h <= 23 and 0 <= m <= 59):
        return None
    return time(h, m)


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    timezone: str

    @classmethod
    def parse(cls, text: str, timezone: str) -> QuietHours | None:
        """The quiet hours a schedule document states ("Quiet hours …: 22:00 to 07:00."), or
        None when it states none (or says "No quiet hours")."""
        line = _LINE.search(text)
        if line is None:
            return None
        span = _SPAN.search(line["span"])
        if span is None:
            return None
        start = _clock(span["h1"], span["m1"], span["p1"] or span["p2"])
        end = _clock(span["h2"], span["m2"], span["p2"])
        if start is None or end is None or start == end:
            return None
        return cls(start, end, timezone)

    def until(self, moment: datetime) -> datetime | None:
        """When the quiet hours around ``moment`` end (UTC), or None outside them."""
        try:
            tz = zone(self.timezone)
        except UnknownTimezone:
            return None
        local = moment.astimezone(tz)
        now = local.time()
        overnight = self.start > self.end
        inside = (
            (now >= self.start or now < self.end) if overnight else self.start <= now < self.end
        )
        if not inside:
            return None
        day = local.date()
        if overnight and now >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=tz).astimezone(moment.tzinfo)


async def quiet_hours_of(session: AsyncSession, user_id: int) -> QuietHours | None:
    """The person's quiet hours from the current version of their schedule document."""
    body = await session.scalar(
        select(Prompt.body)
        .where(
            Prompt.kind == PromptKind.USER,
            Prompt.user_id == user_id,
            Prompt.name == "schedule",
        )
        .order_by(Prompt.version.desc())
        .limit(1)
    )
    if not body:
        return None
    timezone = await session.scalar(select(User.timezone).where(User.id == user_id))
    return QuietHours.parse(body, timezone or "UTC")
