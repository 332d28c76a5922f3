"""Ingest's writer process SIGKILLed while batches are being written, in the real stack: clients that retry
what was answered UNAVAILABLE get every event stored, counted and handed off exactly once."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import grpc
import psutil
import pytest
import redis

from declic.common.v1 import event_pb2, identity_pb2
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.protoconv import to_timestamp
from declic.kit.stream import read_records, stream_key
from tests.e2e.conftest import INTERNAL_TOKEN, eventually

pytestmark = pytest.mark.e2e

BATCHES, SIZE = 60, 200


def _batch(run: str, n: int) -> ingest_pb2.IngestBatchRequest:
    now = to_timestamp(datetime.now(UTC))
    return ingest_pb2.IngestBatchRequest(events=[event_pb2.Event(
        event_id=f"{run}-{n}-{k}", source="webshop", event_time=now,
        identifiers=[identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_ANONYMOUS_ID, value=f"{run}-{k % 50}")],
        page_view=event_pb2.PageView(url="https://shop.example.com/"),
    ) for k in range(SIZE)])


def _writer_process(stack) -> psutil.Process:  # noqa: ANN001
    """The writer child of the ingest server (named once it has started)."""
    server = psutil.Process(stack.processes["ingest"].pid)
    return eventually(lambda: next((p for p in server.children(recursive=True) if p.name() == "ingest-writer"),
                                   None), timeout=30)


def test_a_killed_writer_process_loses_and_doubles_nothing(stack) -> None:
    # A plain channel: Declic's own channels retry UNAVAILABLE by themselves, hiding what this test counts.
    channel = grpc.insecure_channel(stack.address("ingest"), options=[("grpc.enable_retries", 0)])
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    token = [("authorization", f"Bearer {INTERNAL_TOKEN}")]
    run = uuid.uuid4().hex[:8]
    writer = _writer_process(stack)
    unavailable = 0
    statuses: list[int] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        nonlocal unavailable
        request = _batch(run, n)
        while True:  # what a client does: retry what was not acknowledged
            try:
                answer = stub.IngestBatch(request, timeout=30, metadata=token)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                with lock:
                    unavailable += 1
                time.sleep(0.2)
                continue
            with lock:
                statuses.extend(result.status for result in answer.results)
            return

    threads = [threading.Thread(target=send, args=(n,)) for n in range(BATCHES)]
    for thread in threads:
        thread.start()
    eventually(lambda: len(statuses) >= 5 * SIZE, timeout=30, interval=0.005)  # some batches acknowledged ...
    writer.kill()  # ... then a crash, with others in flight and queued
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    # A new writer took over, and each event counts once, whichever attempt stored it.
    assert eventually(lambda: _writer_process(stack).pid != writer.pid, timeout=30)
    assert len(statuses) == BATCHES * SIZE
    assert set(statuses) <= {ingest_pb2.EVENT_STATUS_ACCEPTED, ingest_pb2.EVENT_STATUS_DUPLICATE}
    stats = stub.GetIngestStats(ingest_pb2.GetIngestStatsRequest(source="webshop"), timeout=10, metadata=token)
    accepted = sum(row.count for row in stats.rows if row.status == ingest_pb2.EVENT_STATUS_ACCEPTED)
    assert accepted == BATCHES * SIZE
    client = redis.Redis.from_url(stack.settings.redis_url)
    stream = stream_key(stack.settings.stream_prefix, "handoff")

    def handed_off() -> list[bytes]:
        records = read_records(client, stream)
        return [r for r in records if f"evt:webshop:{run}-".encode() in r]

    records = eventually(lambda: (r := handed_off()) and len(r) >= BATCHES * SIZE and r, timeout=30)
    assert len(records) == BATCHES * SIZE  # once each (a relay re-publishing would show here)
    channel.close()
    assert unavailable  # the crash did catch calls in flight
