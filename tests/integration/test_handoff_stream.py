"""The durable hand-off on a real Redis and database: outbox → stream → consumer groups."""

from __future__ import annotations

import threading

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData, insert, select

from declic.kit.database import make_engine
from declic.kit.framing import frame
from declic.kit.outbox import OutboxRelay, outbox_table
from declic.kit.stream import StreamConsumer, StreamPublisher, read_records, stream_key
from tests.conftest import free_port


def _failing_on_poison(handled: list[bytes]):  # noqa: ANN202
    """A handler that fails on b"poison" and collects the other records in `handled`."""

    def handle(payload: bytes) -> None:
        if payload == b"poison":
            raise ValueError("cannot apply")
        handled.append(payload)

    return handle


def test_each_group_gets_everything_once_even_when_it_starts_late(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    StreamPublisher(redis_client, stream).publish([b"a", b"b"])
    seen: dict[str, list[bytes]] = {"early": [], "late": []}
    early = StreamConsumer(redis_client, stream, "early", seen["early"].append, block_ms=10)
    early.ensure_group()
    early.poll_once()
    StreamPublisher(redis_client, stream).publish([b"c"])
    early.poll_once()
    late = StreamConsumer(redis_client, stream, "late", seen["late"].append, block_ms=10)  # was down until now
    late.ensure_group()
    late.poll_once()
    late.poll_once()
    assert seen == {"early": [b"a", b"b", b"c"], "late": [b"a", b"b", b"c"]}


def test_failed_record_is_dead_lettered_at_once(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    StreamPublisher(redis_client, stream).publish([b"poison", b"fine"])
    handled: list[bytes] = []
    handle = _failing_on_poison(handled)
    consumer = StreamConsumer(redis_client, stream, "g", handle, block_ms=10)
    consumer.ensure_group()
    consumer.poll_once()
    assert handled == [b"fine"]
    dead = redis_client.xrange(f"{stream}:dead:g")
    assert [fields[b"p"] for _, fields in dead] == [b"poison"]
    assert redis_client.xpending(stream, "g")["pending"] == 0


def test_a_dead_consumers_records_are_taken_over(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    StreamPublisher(redis_client, stream).publish([b"x"])
    crashed = StreamConsumer(redis_client, stream, "g", lambda p: (_ for _ in ()).throw(SystemError()),
                             consumer="pod-1", block_ms=10)
    crashed.ensure_group()
    redis_client.xreadgroup("g", "pod-1", {stream: ">"}, count=10)  # read, then the pod died before acking
    got: list[bytes] = []
    survivor = StreamConsumer(redis_client, stream, "g", got.append, consumer="pod-2", block_ms=10, claim_idle_ms=0)
    survivor.poll_once()
    survivor.poll_once()
    assert got == [b"x"]


def test_outbox_relay_publishes_in_order_and_empties_the_table(settings, redis_client) -> None:
    engine = make_engine(settings, "kit")
    metadata = MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    stream = stream_key(settings.stream_prefix, "handoff")
    with engine.begin() as conn:
        conn.execute(insert(table), [{"stream": stream, "payload": f"r{i}".encode()} for i in range(2500)])
    relay = OutboxRelay(engine, table, redis_client, batch_size=1000)
    assert [relay.relay_once() for _ in range(4)] == [1000, 1000, 500, 0]
    payloads = [fields[b"p"] for _, fields in redis_client.xrange(stream)]
    assert payloads == [f"r{i}".encode() for i in range(2500)]
    with engine.begin() as conn:
        assert conn.execute(select(table)).first() is None
    engine.dispose()


def test_rows_stay_in_the_outbox_while_redis_is_down(settings, redis_client) -> None:
    engine = make_engine(settings, "kit")
    metadata = MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    stream = stream_key(settings.stream_prefix, "handoff")
    with engine.begin() as conn:
        conn.execute(insert(table), [{"stream": stream, "payload": b"kept"}])
    down = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.ConnectionError):
        OutboxRelay(engine, table, down).relay_once()
    stop = threading.Event()
    worker = threading.Thread(target=OutboxRelay(engine, table, down).run, args=(stop,))
    worker.start()  # the loop survives the outage instead of dying
    stop.wait(0.3)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert OutboxRelay(engine, table, redis_client).relay_once() == 1  # Redis is back: delivered
    assert [fields[b"p"] for _, fields in redis_client.xrange(stream)] == [b"kept"]
    engine.dispose()


def test_a_batch_is_applied_at_once_and_a_bad_batch_around_its_bad_record(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")

    class Handler:
        def __init__(self) -> None:
            self.batches: list[list[bytes]] = []
            self.singles: list[bytes] = []

        def handle_batch(self, payloads: list[bytes]) -> None:
            if b"poison" in payloads:
                raise ValueError("one bad record spoils the transaction")
            self.batches.append(list(payloads))

        def __call__(self, payload: bytes) -> None:
            if payload == b"poison":
                raise ValueError("still bad")
            self.singles.append(payload)

    handler = Handler()
    consumer = StreamConsumer(redis_client, stream, "g", handler, block_ms=10)
    consumer.ensure_group()
    StreamPublisher(redis_client, stream).publish([b"a", b"b", b"c"])
    consumer.poll_once()
    assert handler.batches == [[b"a", b"b", b"c"]] and handler.singles == []
    StreamPublisher(redis_client, stream).publish([b"d", b"poison", b"e"])
    assert consumer.poll_once() == 2
    assert handler.batches[1:] == [[b"d"], [b"e"]] and handler.singles == []  # the good ones, once each
    assert [f[b"p"] for _, f in redis_client.xrange(f"{stream}:dead:g")] == [b"poison"]
    assert redis_client.xpending(stream, "g")["pending"] == 0


def test_a_framed_outbox_row_is_one_entry_whose_records_consumers_get_in_order(settings, redis_client) -> None:
    engine = make_engine(settings, "kit")
    metadata = MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    stream = stream_key(settings.stream_prefix, "handoff")
    transactions = [[f"t{t}-r{r}".encode() for r in range(n)] for t, n in enumerate([3, 1, 250])]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"stream": stream, "payload": frame(records)} for records in transactions])
    with engine.begin() as conn:
        rows = [dict(row._mapping) for row in conn.execute(select(table.c.stream, table.c.payload))]
    assert OutboxRelay(engine, table, redis_client, framed=True).relay_once() == 3
    assert redis_client.xlen(stream) == 3  # one entry per transaction, not per record
    # For consumers that predate framed entries, the relay can still append one entry per record.
    older = f"{stream}:older"
    with engine.begin() as conn:
        conn.execute(insert(table), [{**row, "stream": older} for row in rows])
    assert OutboxRelay(engine, table, redis_client, framed=True, split_frames=True).relay_once() == 3
    engine.dispose()
    assert redis_client.xlen(older) == 254
    assert [f[b"p"] for _, f in redis_client.xrange(older)] == [r for records in transactions for r in records]
    StreamPublisher(redis_client, stream).publish([b"single"])  # entries of one record mix with frames
    expected = [record for records in transactions for record in records] + [b"single"]
    assert read_records(redis_client, stream) == expected

    class Handler:
        def __init__(self) -> None:
            self.batches: list[list[bytes]] = []

        def handle_batch(self, payloads: list[bytes]) -> None:
            self.batches.append(list(payloads))

        def __call__(self, payload: bytes) -> None:
            self.batches.append([payload])

    one_by_one: list[bytes] = []
    by_batches = Handler()
    for group, handle in (("plain", one_by_one.append), ("batches", by_batches)):
        consumer = StreamConsumer(redis_client, stream, group, handle, block_ms=10, batch_size=100)
        consumer.ensure_group()
        assert consumer.poll_once() == len(expected)
        assert redis_client.xpending(stream, group)["pending"] == 0
    assert one_by_one == expected
    assert [len(batch) for batch in by_batches.batches] == [100, 100, 55]  # at most batch_size records each
    assert [record for batch in by_batches.batches for record in batch] == expected


def test_a_bad_record_in_a_frame_is_dead_lettered_alone_and_the_others_handled_once(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    StreamPublisher(redis_client, stream).publish_frames([frame([b"a", b"poison", b"b"]), frame([b"c"])])
    handled: list[bytes] = []
    handle = _failing_on_poison(handled)
    consumer = StreamConsumer(redis_client, stream, "g", handle, block_ms=10)
    consumer.ensure_group()
    first = redis_client.xrange(stream)[0][0]
    consumer.poll_once()
    assert handled == [b"a", b"b", b"c"]  # once each
    dead = redis_client.xrange(f"{stream}:dead:g")
    assert [(f[b"p"], f[b"source_id"]) for _, f in dead] == [(b"poison", first + b"#1")]
    assert redis_client.xpending(stream, "g")["pending"] == 0


def test_a_damaged_frame_goes_to_the_dead_letters_whole(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    damaged = frame([b"x" * 300])[:50]
    StreamPublisher(redis_client, stream).publish_frames([damaged])
    consumer = StreamConsumer(redis_client, stream, "g", lambda p: None, block_ms=10)
    consumer.ensure_group()
    consumer.poll_once()
    assert [f[b"f"] for _, f in redis_client.xrange(f"{stream}:dead:g")] == [damaged]
    assert redis_client.xpending(stream, "g")["pending"] == 0


def test_a_consumer_reads_about_a_batch_of_records_at_a_time_whatever_entries_hold_them(settings,
                                                                                       redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    publisher = StreamPublisher(redis_client, stream)
    consumer = StreamConsumer(redis_client, stream, "g", lambda p: None, block_ms=10, batch_size=100)
    consumer.ensure_group()
    publisher.publish_frames([frame([b"%d-%d" % (f, r) for r in range(250)]) for f in range(4)])
    assert consumer.poll_once() == 1000  # the first read takes batch_size entries: four frames here
    publisher.publish_frames([frame([b"%d-%d" % (f, r) for r in range(250)]) for f in range(4, 8)])
    assert [consumer.poll_once() for _ in range(4)] == [250] * 4  # then one frame at a time
    publisher.publish([b"s%d" % n for n in range(150)])
    # Entries of one record: one read to see it, then about a batch of them at a time.
    assert [consumer.poll_once() for _ in range(4)] == [1, 100, 49, 0]
    assert redis_client.xpending(stream, "g")["pending"] == 0


def test_an_entry_of_an_unknown_shape_is_set_aside_not_dropped(settings, redis_client) -> None:
    stream = stream_key(settings.stream_prefix, "handoff")
    redis_client.xadd(stream, {b"x": b"from a newer publisher"})
    StreamPublisher(redis_client, stream).publish([b"known"])
    handled: list[bytes] = []
    consumer = StreamConsumer(redis_client, stream, "g", handled.append, block_ms=10)
    consumer.ensure_group()
    consumer.poll_once()
    assert handled == [b"known"]
    [(_, dead)] = redis_client.xrange(f"{stream}:dead:g")
    assert dead[b"x"] == b"from a newer publisher"
    assert redis_client.xpending(stream, "g")["pending"] == 0
