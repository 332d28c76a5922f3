"""The pressure counters on the real Redis: they reserve and count, the domain decides."""

from __future__ import annotations

from datetime import timedelta

from declic.kit.clock import ManualClock
from services.arbiter.storage.counters import PressureCounters


def test_counters_reserve_and_count_but_never_refuse(settings, redis_client) -> None:
    counters = PressureCounters(redis_client, settings.stream_prefix)
    now, window = ManualClock().now(), timedelta(days=7)
    assert [counters.reserve("c", f"f{i}", now + timedelta(seconds=i), window) for i in range(5)] == [0, 1, 2, 3, 4]
    assert counters.reserve("c", "f1", now + timedelta(seconds=9), window) == 1  # held already: reserved once
    counters.release("c", "f1")
    assert counters.reserve("c", "f5", now + timedelta(seconds=10), window) == 4
    assert counters.reserve("c", "f6", now + timedelta(days=8), window) == 0  # the window slid past them all
