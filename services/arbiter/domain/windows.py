"""Where a cap's window starts and when it next frees, in the person's own timezone.

A calendar day or week is the person's local day or week (weeks start on Monday), so a cap of
"1 per calendar day" resets at their midnight, across a daylight-saving change too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.arbiter.domain.policy import Window


def _local_midnight(instant: datetime, zone: ZoneInfo, days_back: int = 0) -> datetime:
    local = instant.astimezone(zone)
    day = local.date() - timedelta(days=days_back)
    # Midnight of a local date, as an aware instant: zoneinfo resolves the (rare) gap or repeat by fold.
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def window_start(window: Window, now: datetime, zone: ZoneInfo) -> datetime:
    """The first instant that counts in `window` at `now`."""
    if window.rolling is not None:
        return now - window.rolling
    local = now.astimezone(zone)
    days_back = local.weekday() if window.calendar == "week" else 0
    return _local_midnight(now, zone, days_back)


def window_frees_at(window: Window, now: datetime, zone: ZoneInfo, oldest_counted: datetime | None) -> datetime:
    """When a full window next has room: the oldest counted send leaves a rolling window; a calendar one resets."""
    if window.rolling is not None:
        return (oldest_counted or now) + window.rolling
    start = window_start(window, now, zone).astimezone(zone)
    length = 7 if window.calendar == "week" else 1
    next_day = start.date() + timedelta(days=length)
    return datetime(next_day.year, next_day.month, next_day.day, tzinfo=zone).astimezone(UTC)
