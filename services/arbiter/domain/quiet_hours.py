"""Quiet hours, in the person's timezone: a marketing message due then is deferred to their end, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.arbiter.domain.policy import QuietHours


def _in_quiet(local: time, quiet: QuietHours) -> bool:
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end  # spans midnight


def quiet_until(now: datetime, zone: ZoneInfo, quiet: QuietHours | None, channel: str) -> datetime | None:
    """The instant quiet hours end for a message on `channel` at `now`; None when it may go now.

    The end is the next local `quiet.end` wall time; when a daylight-saving jump skips it, the first
    instant after the jump (zoneinfo maps the missing wall time forward).
    """
    if quiet is None or channel not in quiet.channels:
        return None
    local = now.astimezone(zone)
    if not _in_quiet(local.time().replace(tzinfo=None), quiet):
        return None
    day = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
    end = datetime.combine(day, quiet.end, tzinfo=zone)
    # A wall time inside a spring-forward gap: normalising through UTC moves it past the gap.
    return end.astimezone(UTC)
