"""The one check of a timezone name, for people, schedules, prompts and the setup interview."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from angie.errors import Invalid

__all__ = ("UnknownTimezone", "check_timezone", "timezone_names", "zone")


class UnknownTimezone(Invalid, ValueError):
    """A timezone that is not an IANA name this machine knows (a ``ValueError`` too, so a
    pydantic validator that meets one refuses the field with this message)."""


@cache
def timezone_names() -> frozenset[str]:
    # "localtime" is whatever the host says: a person's day must not move with the server.
    return frozenset(available_timezones() - {"localtime"}) | {"UTC"}


def zone(name: str) -> ZoneInfo:
    """The IANA timezone called ``name`` (surrounding spaces ignored); anything else is an
    :class:`UnknownTimezone` naming it."""
    name = name.strip()
    if name in timezone_names():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # listed but unreadable: reported like an unknown name just below
    raise UnknownTimezone(
        f"{name!r} is not a known timezone; use an IANA name such as 'Europe/Paris' or 'UTC'"
    )


def check_timezone(name: str) -> str:
    """``name`` as stored (stripped), once it is known to be an IANA timezone."""
    return zone(name).key
