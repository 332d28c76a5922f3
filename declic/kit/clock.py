"""Time is an input: everything that depends on "now" takes a Clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from declic.kit.config import Settings


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new instant."""
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant


class SharedClock:
    """A simulated clock every process of a stack agrees on, kept in Redis.

    The stored anchor says: at real instant `real`, the simulated time was `simulated`, and it runs
    `speed` times faster than real time. `make demo` uses it to replay months in minutes; tests of
    time-based triggers jump weeks ahead with `set`. Each process re-reads the anchor at most once
    per `refresh` seconds, so `now()` costs no round trip.
    """

    def __init__(self, client: object, key: str, refresh: float = 0.5) -> None:
        self._client = client
        self._key = key
        self._refresh = refresh
        self._anchor: tuple[float, float, float] | None = None  # (real, simulated, speed), epoch seconds
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def set(self, simulated: datetime, speed: float = 1.0) -> None:
        """From now on, the shared time is `simulated`, running `speed` × real time."""
        anchor = f"{time.time()}:{simulated.timestamp()}:{speed}"
        self._client.set(self._key, anchor)  # type: ignore[attr-defined]
        with self._lock:
            self._read_at = float("-inf")

    def now(self) -> datetime:
        real = time.time()
        with self._lock:
            if time.monotonic() - self._read_at > self._refresh:
                raw = self._client.get(self._key)  # type: ignore[attr-defined]
                self._anchor = tuple(float(part) for part in raw.decode().split(":")) if raw else None  # type: ignore[assignment]
                self._read_at = time.monotonic()
            anchor = self._anchor
        if anchor is None:
            return datetime.fromtimestamp(real, UTC)
        real_at, simulated_at, speed = anchor
        return datetime.fromtimestamp(simulated_at + (real - real_at) * speed, UTC)


def make_clock(settings: Settings) -> Clock:
    """The clock DECLIC_CLOCK asks for: "system" (the wall clock) or "shared" (simulated, in Redis)."""
    if settings.clock == "shared":
        from declic.kit.redis_client import make_redis

        return SharedClock(make_redis(settings), shared_clock_key(settings.stream_prefix))
    return SystemClock()


def shared_clock_key(prefix: str) -> str:
    return f"{prefix}:clock"
