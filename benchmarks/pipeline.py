"""Pipeline benchmark: the same events through ingest, then through profile's hand-off consumer — both rates
and their ratio, in the same run on the same machine.

1. ingest (`python -m services.ingest`, as in production) accepts the events, sent in batches of 500, 4 in
   flight: events accepted per second, as in benchmarks/ingest.py;
2. once every record is on the hand-off stream and ingest is stopped, profile's consumer — the stream consumer
   and intake that `services.profile.main.bootstrap` wires, run in this process — applies them all: ingest's
   accepted events per second of consuming. The pipeline runs at the slower of the two paces; the issue's
   target is profile ≥ 0.5 × ingest.

PostgreSQL and Redis as for benchmarks.ingest; everything under a random schema/key prefix, dropped at the end.
`python -m benchmarks.pipeline --events 10000` for a quicker run.
"""

from __future__ import annotations

import argparse
import time
import uuid

import redis
from rich.console import Console
from rich.table import Table

from benchmarks._ingest_data import EventMix
from benchmarks._rig import Server, database_url, drop_schemas, free_port, machine, redis_url
from benchmarks.ingest import send_batches, wait_handed_off
from declic.ingest.v1 import ingest_pb2
from declic.kit.config import load_settings
from declic.kit.stream import StreamConsumer, read_records
from services.profile.main import bootstrap

console = Console()


def ingest_rate(requests: list[bytes], env: dict[str, str], port: int, client: redis.Redis,
                stream: str) -> tuple[float, int]:
    """(events/s accepted, events accepted), the first two batches excluded (warm-up); returns once every record
    is on the hand-off stream and ingest is stopped."""
    server = Server(["-m", "services.ingest"], env, port)
    try:
        _, warm = send_batches(server.channel, requests[:2], 1)
        seconds, accepted = send_batches(server.channel, requests[2:], 4)
        wait_handed_off(client, stream, warm + accepted)
    finally:
        server.stop()
    return accepted / seconds, warm + accepted


def profile_consumer(settings_prefix: str, url: str, rurl: str) -> StreamConsumer:
    """Profile's hand-off consumer, wired as the service wires it (its tables migrated)."""
    settings = load_settings(database_url=url, redis_url=rurl, db_schema_prefix=settings_prefix,
                             stream_prefix=settings_prefix, log_level="WARNING")
    app = bootstrap(settings)
    return next(worker for worker in app.workers if isinstance(worker, StreamConsumer))


def consume_all(consumer: StreamConsumer, records: int) -> float:
    """Seconds the consumer takes to handle `records` records, from its first read."""
    consumer.ensure_group()
    handled = 0
    started = time.perf_counter()
    while handled < records:
        handled += consumer.poll_once()
    return time.perf_counter() - started


def batch_requests(events: int, batch: int, tag: str) -> list[bytes]:
    """The retailer's mix of benchmarks.ingest, as serialized IngestBatch requests."""
    mix = EventMix(seed=7, run=tag, customers=max(events // 8, 100))
    return [ingest_pb2.IngestBatchRequest(events=events).SerializeToString() for events in mix.batches(events, batch)]


def run(args: argparse.Namespace) -> None:
    url, rurl = database_url(), redis_url()
    client = redis.Redis.from_url(rurl)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        console.print(f"[yellow]pipeline benchmark skipped: Redis unreachable ({exc})[/]")
        return
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench_pipeline_{tag}_"
    requests = batch_requests(args.events, args.batch, tag)
    stream = f"{prefix}:handoff"
    env = {"DECLIC_DATABASE_URL": url, "DECLIC_REDIS_URL": rurl, "DECLIC_DB_SCHEMA_PREFIX": prefix,
           "DECLIC_STREAM_PREFIX": prefix, "DECLIC_INGEST_PORT": str(free_port()), "DECLIC_LOG_LEVEL": "WARNING"}
    try:
        ingest, events = ingest_rate(requests, env, int(env["DECLIC_INGEST_PORT"]), client, stream)
        records = len(read_records(client, stream))
        consumer = profile_consumer(prefix, url, rurl)
        seconds = consume_all(consumer, records)
    finally:
        client.delete(stream, f"{stream}:dead:profile")
        drop_schemas(url, prefix)
    profile = events / seconds
    table = Table(title=f"Pipeline: {events:,} events through ingest, then profile's consumer")
    for column in ("measure", "figure", "detail"):
        table.add_column(column)
    table.add_row("ingest: events accepted", f"{ingest:,.0f} ev/s", f"batches of {args.batch}, 4 in flight")
    table.add_row("profile's consumer: the same events applied", f"{profile:,.0f} ev/s",
                  f"{records:,} hand-off records in {seconds:.1f} s")
    table.add_row("profile / ingest", f"{profile / ingest:.2f} ×", "target ≥ 0.5 ×")
    console.print(table)
    console.print(f"machine: {machine()}; PostgreSQL at {url.split('@')[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline")
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=500)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
