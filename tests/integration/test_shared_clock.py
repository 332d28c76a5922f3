"""The shared (simulated) clock: every process of a stack reads the same time from Redis."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from declic.kit.clock import SharedClock, SystemClock, make_clock


def test_processes_agree_on_a_simulated_time_running_faster(redis_client, settings) -> None:
    key = f"{settings.stream_prefix}:clock"
    writer, reader = SharedClock(redis_client, key, refresh=0), SharedClock(redis_client, key, refresh=0)
    before = reader.now()
    assert abs((before - datetime.now(UTC)).total_seconds()) < 2  # unset: the wall clock
    start = datetime(2011, 1, 1, 9, 0, tzinfo=UTC)
    writer.set(start, speed=3600)  # one real second is a simulated hour
    first = reader.now()
    assert start <= first < start + timedelta(hours=1)
    time.sleep(0.2)
    assert reader.now() - first >= timedelta(minutes=10)


def test_make_clock(settings) -> None:
    assert isinstance(make_clock(settings), SystemClock)
    assert isinstance(make_clock(settings.model_copy(update={"clock": "shared"})), SharedClock)
