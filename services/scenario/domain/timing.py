"""When a wait ends, in the customer's own time zone (daylight-saving changes included, by zoneinfo)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The customer's zone; UTC when unknown or not given."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def after(now: datetime, duration: timedelta, timezone: str) -> datetime:
    """`now` + `duration`. Whole days are counted on the customer's wall clock (a wait of 1 day started at
    10:00 ends at 10:00 the next day even across a daylight-saving change); hours and minutes are elapsed time."""
    if duration % timedelta(days=1):
        return now + duration
    local = now.astimezone(zone(timezone))
    return _at_local(local.date() + duration, local.time(), zone(timezone))


def next_local_time(now: datetime, at: time, timezone: str) -> datetime:
    """The next `at` on the customer's clock, from `now` on (today's if it has not passed)."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    today = _at_local(local.date(), at, tz)
    return today if today >= now else _at_local(local.date() + timedelta(days=1), at, tz)


def local_date_at(day: date, offset: timedelta, at: time, timezone: str) -> datetime:
    """`at` on the customer's clock, `offset` days from `day` (3 days before an expiry date: offset −3 days)."""
    return _at_local(day + timedelta(days=offset.days), at, zone(timezone))


def _at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """That wall-clock time in `tz`, as UTC. A time skipped by a spring-forward change is taken after it
    (02:30 → 03:30: fold=0 reads it with the offset before the change); a repeated one, at its first occurrence."""
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)
