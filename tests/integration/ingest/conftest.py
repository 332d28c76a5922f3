"""Helpers for ingest's integration tests: an in-process ingest on a manual clock, events, the hand-off stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.ingest.v1 import handoff_pb2, ingest_pb2_grpc
from declic.kit.clock import ManualClock
from declic.kit.config import Settings
from declic.kit.protoconv import identifier_type_enum, to_timestamp
from declic.kit.stream import read_records, stream_key


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ingest(start_service, clock: ManualClock) -> ingest_pb2_grpc.IngestServiceStub:
    _, channel = start_service("ingest", clock=clock)
    return ingest_pb2_grpc.IngestServiceStub(channel)


class EventFactory:
    """Builds events at the clock's time: `make("e1", email="a@x.fr", page_view=...)`."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock

    def __call__(self, event_id: str, source: str = "webshop", *, age: timedelta = timedelta(minutes=1),
                 **fields: object) -> event_pb2.Event:
        identifiers = []
        payload = {}
        for name, value in fields.items():
            if name in {"email", "phone", "loyalty_card", "crm_id", "anonymous_id", "device_id"}:
                identifiers.append(identity_pb2.Identifier(type=identifier_type_enum(name), value=str(value)))
            else:
                payload[name] = value
        if not payload:
            payload["page_view"] = event_pb2.PageView(url="https://shop.example.com/")
        return event_pb2.Event(event_id=event_id, source=source, event_time=to_timestamp(self._clock.now() - age),
                               identifiers=identifiers, **payload)


@pytest.fixture
def make(clock: ManualClock) -> EventFactory:
    return EventFactory(clock)


def order(order_id: str, *lines: tuple[str, int, int]) -> event_pb2.Order:
    """An online purchase; lines are (product_id, quantity, unit price in euros)."""
    return event_pb2.Order(order_id=order_id, channel=event_pb2.ORDER_CHANNEL_ONLINE, lines=[
        event_pb2.OrderLine(product_id=p, quantity=q, unit_price=money_pb2.Money(currency_code="EUR", units=u))
        for p, q, u in lines
    ])


class Handoff:
    """Reads the hand-off stream as a plain list of records (XRANGE: no consumer group involved)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.key = stream_key(settings.stream_prefix, "handoff")

    def records(self) -> list[handoff_pb2.HandoffRecord]:
        return [handoff_pb2.HandoffRecord.FromString(record) for record in read_records(self.client, self.key)]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[handoff_pb2.HandoffRecord]:
        """The records once there are at least `count` of them (the relay runs in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.records()
            if len(records) >= count or time.monotonic() > deadline:
                return records
            time.sleep(0.02)

    def of(self, kind: str) -> list:
        return [getattr(r, kind) for r in self.records() if r.WhichOneof("body") == kind]


@pytest.fixture
def handoff(redis_client: redis.Redis, settings: Settings) -> Handoff:
    return Handoff(redis_client, settings)


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
