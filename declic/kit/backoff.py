"""How long to wait before trying a piece of work on a peer again (a firing, a confirmation): one schedule for
every service, so that a peer coming back is not hit by each at its own pace."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(attempts: int) -> timedelta:
    """After `attempts` failed attempts: 0.5 s doubling up to 1 minute."""
    return timedelta(seconds=min(0.5 * 2 ** min(attempts, 7), 60))
