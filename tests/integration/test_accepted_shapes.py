"""A record ingest accepted can always be applied downstream: every shape of event (tests/integration/accepted_shapes)
through a real ingest, then its hand-off records fed to profile's, scenario's and recommend's intakes as their
services wire them — none set aside, each consumer acknowledges every record."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2, ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import ManualClock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.dead_letters import dead_letter_key
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamConsumer, read_records, stream_key
from tests.integration.accepted_shapes import events

BATCH_BYTES = 3 * 2**20


def _profile(uow: UnitOfWork, clock: ManualClock) -> Callable[[bytes], None]:
    from services.profile.intake.consumer import ProfileIntake
    from services.profile.settings import ProfileSettings

    return ProfileIntake(uow, clock, ProfileSettings().rules())


def _scenario(uow: UnitOfWork, clock: ManualClock) -> Callable[[bytes], None]:
    from tests.integration.scenario.harness import Profiles, profile, shipped_intake

    class Everyone(Profiles):  # every customer known, so matching events enter journeys too
        def profile_facts(self, customer_id, now):
            return profile(customer_id)

    return shipped_intake(uow, clock, Everyone())


def _recommend(uow: UnitOfWork, clock: ManualClock) -> Callable[[bytes], None]:
    from services.recommend.intake import HandoffIntake

    return HandoffIntake(uow, clock)


CONSUMERS = {"profile": (_profile, 2000), "scenario": (_scenario, 100), "recommend": (_recommend, 100)}
"""Each consumer group's intake and batch size, as its services/<name>/main.py wires them."""


@pytest.fixture
def intake(settings: Settings) -> Iterator[Callable[[str, ManualClock], Callable[[bytes], None]]]:
    """Builds a service's hand-off intake on its own migrated schema, as its bootstrap does."""
    engines = []

    def build(name: str, clock: ManualClock) -> Callable[[bytes], None]:
        engine = make_engine(settings, name)
        send_lists_in_binary(engine)
        migrate(engine, name, settings)
        engines.append(engine)
        return CONSUMERS[name][0](UnitOfWork(session_factory(engine)), clock)

    yield build
    for engine in engines:
        engine.dispose()


def _send_all(stub: ingest_pb2_grpc.IngestServiceStub, shapes: list[event_pb2.Event]) -> list[str]:
    """Send the events in batches of at most BATCH_BYTES; the answers that are not ACCEPTED, each with its reason."""
    refused: list[str] = []
    batch: list[event_pb2.Event] = []
    for event in [*shapes, None]:
        if batch and (event is None or sum(e.ByteSize() for e in batch) + event.ByteSize() > BATCH_BYTES):
            response = stub.IngestBatch(ingest_pb2.IngestBatchRequest(events=batch), timeout=60)
            refused += [f"{batch[n].event_id[:20]} {batch[n].WhichOneof('payload')}: {result.errors}"
                        for n, result in enumerate(response.results)
                        if result.status != ingest_pb2.EVENT_STATUS_ACCEPTED]
            batch = []
        if event is not None:
            batch.append(event)
    return refused


def _consume_all(consumer: StreamConsumer, client: redis.Redis, last_id: bytes) -> None:
    """Poll until the group acknowledged everything up to `last_id` (at most 120 s)."""
    deadline = time.monotonic() + 120
    while True:
        consumer.poll_once()
        [info] = [g for g in client.xinfo_groups(consumer.stream) if g["name"] == consumer.group.encode()]
        if info["pending"] == 0 and info["last-delivered-id"] >= last_id:
            return
        assert time.monotonic() < deadline, f"{consumer.group} did not catch up: {info}"


@pytest.mark.parametrize("group", ["profile", "scenario", "recommend"])
def test_every_accepted_shape_is_applied_by_every_consumer(group, start_service, settings, redis_client,
                                                           intake) -> None:
    clock = ManualClock()
    _, channel = start_service("ingest", clock=clock)
    shapes = events(clock.now())
    assert _send_all(ingest_pb2_grpc.IngestServiceStub(channel), shapes) == []
    stream = stream_key(settings.stream_prefix, "handoff")
    deadline = time.monotonic() + 60
    while len(read_records(redis_client, stream)) < len(shapes):  # the relay runs in the background
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)  # anything the last transactions hand off besides their events (a merge)
    last_id = redis_client.xinfo_stream(stream)["last-generated-id"]
    records = [handoff_pb2.HandoffRecord.FromString(payload) for payload in read_records(redis_client, stream)]
    kinds = {record.accepted_event.event.WhichOneof("payload") for record in records
             if record.HasField("accepted_event")}
    assert kinds == {field.name for field in event_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"].fields}
    assert any(record.HasField("customers_merged") for record in records)
    consumer = StreamConsumer(redis_client, stream, group, intake(group, clock), batch_size=CONSUMERS[group][1],
                              block_ms=10)
    consumer.ensure_group()
    _consume_all(consumer, redis_client, last_id)
    dead = [_described(fields) for _, fields in redis_client.xrange(dead_letter_key(stream, group))]
    assert not dead, f"{group} set aside records ingest accepted:\n" + "\n".join(dead)


def _described(fields: dict[bytes, bytes]) -> str:
    """A dead letter as "<event id> <payload kind>: <reason>"."""
    record = handoff_pb2.HandoffRecord.FromString(fields[b"p"])
    event = record.accepted_event.event
    name = f"{event.event_id[:20]} {event.WhichOneof('payload')}" if event.event_id else record.WhichOneof("body")
    return f"{name}: {fields[b'reason'].decode()}"
