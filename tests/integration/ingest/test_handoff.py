"""The durable hand-off: nothing acknowledged is lost, nothing is applied twice."""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from sqlalchemy import Column, MetaData, String, Table, insert

from declic.ingest.v1 import handoff_pb2, ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import SystemClock
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.framing import frame
from declic.kit.inbox import claim_record, inbox_columns
from declic.kit.protoconv import to_datetime
from declic.kit.stream import StreamConsumer, StreamPublisher, read_records, stream_key
from services.ingest.settings import IngestSettings
from services.ingest.storage import tables
from services.ingest.workers.relay import background_workers
from tests.integration.ingest.conftest import eventually


class IdempotentConsumer:
    """A downstream consumer as profile or scenario write it: inbox claim and effect in one transaction."""

    def __init__(self, settings) -> None:  # noqa: ANN001
        metadata = MetaData()
        self.inbox = Table("inbox", metadata, *inbox_columns())
        self.effects = Table("effects", metadata, Column("record_id", String(200)))
        self.engine = make_engine(settings, "consumer_test")
        metadata.create_all(self.engine)
        self.uow = UnitOfWork(session_factory(self.engine))

    def __call__(self, payload: bytes) -> None:
        record = handoff_pb2.HandoffRecord.FromString(payload)
        with self.uow.begin() as session:
            if claim_record(session, self.inbox, record.record_id, to_datetime(record.recorded_at)):
                session.execute(self.effects.insert().values(record_id=record.record_id))
            session.commit()

    def applied(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(row.record_id for row in conn.execute(self.effects.select()))


def caught_up(client, stream: str, group: str) -> bool:  # noqa: ANN001
    """True when `group` has read and acknowledged every record of `stream`."""
    last = client.xinfo_stream(stream)["last-generated-id"]
    [info] = [g for g in client.xinfo_groups(stream) if g["name"] == group.encode()]
    return info["pending"] == 0 and info["last-delivered-id"] == last


def ingest_some(stub: ingest_pb2_grpc.IngestServiceStub, make, count: int, prefix: str = "e") -> None:  # noqa: ANN001
    events = [make(f"{prefix}{n}", email=f"c{n % 5}@example.com") for n in range(count)]
    response = stub.IngestBatch(ingest_pb2.IngestBatchRequest(events=events))
    assert response.accepted == count


def test_a_consumer_down_then_up_gets_everything_once(ingest, make, settings, redis_client, handoff) -> None:
    ingest_some(ingest, make, 30)
    handoff.wait_for(30)
    consumer = IdempotentConsumer(settings)
    # The profile service comes back: its group starts at the beginning of the stream.
    group = StreamConsumer(redis_client, handoff.key, "profile", consumer, consumer="profile-1", block_ms=50)
    group.ensure_group()
    stop = threading.Event()
    worker = threading.Thread(target=group.run, args=(stop,), daemon=True)
    worker.start()
    try:
        ingest_some(ingest, make, 10, prefix="late")
        assert eventually(lambda: len(consumer.applied()) == 40)
        # The relay may publish a record twice (crash between XADD and DELETE): replay everything.
        StreamPublisher(redis_client, handoff.key).publish(
            [r.SerializeToString() for r in handoff.records()])
        assert eventually(lambda: caught_up(redis_client, handoff.key, "profile"))
    finally:
        stop.set()
        worker.join(timeout=5)
    applied = consumer.applied()
    assert len(applied) == 40 and len(set(applied)) == 40


def test_nothing_acknowledged_is_lost_when_ingest_dies_right_after_the_ack(start_service, clock, make,
                                                                          handoff) -> None:
    # workers=False: the relay never runs, as if the process were killed right after answering.
    running, channel = start_service("ingest", clock=clock, workers=False)
    ingest_some(ingest_pb2_grpc.IngestServiceStub(channel), make, 25)
    running.stop(grace=0.2)
    assert handoff.records() == []
    start_service("ingest", clock=clock)  # the next process (or another replica) relays the outbox
    records = handoff.wait_for(25)
    assert sorted(r.record_id for r in records) == sorted(f"evt:webshop:e{n}" for n in range(25))


def test_the_relay_runs_in_a_child_process_by_default_which_is_started_again_if_it_dies(start_service, make,
                                                                                        handoff) -> None:
    running, channel = start_service("ingest")  # no clock given: production wiring
    assert [type(worker).__name__ for worker in running.app.workers] == ["RelayProcess"]
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    ingest_some(stub, make, 20)
    records = handoff.wait_for(20, timeout=30)
    assert sorted(r.record_id for r in records) == sorted(f"evt:webshop:e{n}" for n in range(20))
    # The relay yields the CPU to the processes answering calls (DECLIC_INGEST_RELAY_NICENESS, default 10).
    [relay] = [p for p in psutil.Process().children(recursive=True) if p.name() == "ingest-relay"]
    assert relay.nice() == psutil.Process().nice() + 10
    relay.kill()  # the supervisor starts another; what is committed meanwhile waits in the outbox
    ingest_some(stub, make, 10, prefix="after")
    # At least once: killed between appending and deleting its rows, a relay leaves them to the next one, which
    # appends them again; consumers apply a record id once (their inbox). Nothing is lost.
    expected = {f"evt:webshop:e{n}" for n in range(20)} | {f"evt:webshop:after{n}" for n in range(10)}
    deadline = time.monotonic() + 30
    while {r.record_id for r in handoff.records()} != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {r.record_id for r in handoff.records()} == expected
    relays = [p.pid for p in psutil.Process().children(recursive=True) if p.name() == "ingest-relay"]
    assert relays and relay.pid not in relays


@pytest.mark.parametrize(("frames", "entries"), [(True, 1), (False, 3)])
def test_a_transactions_records_are_one_entry_unless_older_consumers_need_one_each(settings, redis_client, frames,
                                                                                    entries) -> None:
    engine = make_engine(settings, "ingest")
    migrate(engine, "ingest", settings)
    stream = stream_key(settings.stream_prefix, "handoff")
    with engine.begin() as conn:
        conn.execute(insert(tables.outbox), [{"stream": stream, "payload": frame([b"r1", b"r2", b"r3"])}])
    ingest_settings = IngestSettings(handoff_frames=frames, consume_erasures=False)
    [relay] = background_workers(settings, ingest_settings, engine, redis_client, SystemClock())
    assert relay.relay_once() == 1
    engine.dispose()
    assert redis_client.xlen(stream) == entries
    assert read_records(redis_client, stream) == [b"r1", b"r2", b"r3"]
