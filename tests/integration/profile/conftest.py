"""Profile integration fixtures: the real service in-process, fed through the real hand-off stream."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.stream import StreamPublisher, stream_key
from declic.profile.v1 import profile_pb2_grpc

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def handoff(settings, redis_client) -> Callable[[Iterable[handoff_pb2.HandoffRecord]], None]:
    """Publish records on the hand-off stream exactly as ingest's outbox relay does."""
    publisher = StreamPublisher(redis_client, stream_key(settings.stream_prefix, "handoff"))
    return lambda records: publisher.publish([record.SerializeToString() for record in records])


class ProfileUnderTest(tuple):
    """(stub, publish_and_wait), plus `.address` of the running server (for the CLI)."""

    address: str

    def __new__(cls, stub: Any, publish: Callable[..., None], address: str) -> ProfileUnderTest:
        made = super().__new__(cls, (stub, publish))
        made.address = address
        return made


@pytest.fixture
def profile(start_service, clock, settings, redis_client, handoff) -> ProfileUnderTest:
    """(stub, publish_and_wait): publish records, wait until the profile consumer acknowledged them all."""
    running, channel = start_service("profile", clock=clock)
    stub = profile_pb2_grpc.ProfileServiceStub(channel)
    stream = stream_key(settings.stream_prefix, "handoff")

    def publish_and_wait(records: Iterable[handoff_pb2.HandoffRecord], timeout: float = 20.0) -> None:
        handoff(list(records))
        wait_until(lambda: _drained(redis_client, stream), timeout)

    return ProfileUnderTest(stub, publish_and_wait, f"127.0.0.1:{running.port}")


def _drained(client: Any, stream: str) -> bool:
    """Every record read by the profile group and acknowledged (works on Redis 6, which has no "lag")."""
    groups = {g["name"].decode(): g for g in client.xinfo_groups(stream)}
    group = groups.get("profile")
    last = client.xrevrange(stream, count=1)
    return bool(group) and bool(last) and group["pending"] == 0 and group["last-delivered-id"] == last[0][0]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")
