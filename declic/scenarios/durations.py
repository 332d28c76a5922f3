"""Durations and local times as marketers write them: "2 hours", "-3 days", "1 week", "10:00"."""

from __future__ import annotations

import re
from datetime import time, timedelta

_UNITS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_DURATION = re.compile(r"^\s*([+-]?\d+)\s*(minute|hour|day|week)s?\s*$")
_LOCAL_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_duration(text: str) -> timedelta:
    """ "2 hours" → 2 h; "-3 days" → −3 days. Raises ValueError naming what is wrong."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f'"{text}" is not a duration (say e.g. "30 minutes", "2 hours", "3 days", "1 week")')
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_local_time(text: str) -> time:
    """ "10:00" → 10:00 (a time of day, in the customer's own zone)."""
    match = _LOCAL_TIME.match(str(text))
    if not match:
        raise ValueError(f'"{text}" is not a time of day (say e.g. "10:00")')
    return time(int(match.group(1)), int(match.group(2)))


def describe(delta: timedelta) -> str:
    """A duration in words, for explanations: 1 day 2 hours."""
    seconds = int(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    parts = []
    for name, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count > 1 else ''}")
    return sign + (" ".join(parts) or "0 minutes")
