"""Time zones: which names are valid, and which date it is where."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def known_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() | {"UTC"}))


def is_known_zone(name: str) -> bool:
    """True for an IANA zone name this machine knows ("Europe/Paris")."""
    if name not in known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def birthdays_today(as_of: datetime) -> dict[tuple[int, int], list[str]]:
    """For each (month, day) that is today somewhere at `as_of`, the zones where it is.

    Someone born on 29 February celebrates on 28 February in other years.
    """
    by_date: dict[tuple[int, int], list[str]] = {}
    for zone in known_zones():
        local = as_of.astimezone(ZoneInfo(zone)).date()
        by_date.setdefault((local.month, local.day), []).append(zone)
        if (local.month, local.day) == (2, 28) and not _is_leap(local.year):
            by_date.setdefault((2, 29), []).append(zone)
    return by_date


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
