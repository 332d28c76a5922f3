"""Two ingest configurations against each other, in alternated rounds of the same run.

The machine's speed drifts (on a shared host, by a third within an hour): two benchmark runs one after the
other do not tell a 10 % change from the drift. Here both servers run side by side (each on its own schema
and stream), and rounds of fresh events go to one then the other, the order swapped every round; the ratio
per round is what to read.

    python -m benchmarks.ingest_ab '{"DECLIC_INGEST_WRITER_PROCESS": "false"}' '{}' --rounds 6 --events 40000

(those are the defaults: in `make bench`, the writer as a thread against the writer as a process).
Two versions of the code: `--checkout-a DIR` runs configuration A from another checkout, e.g.
`git worktree add /tmp/base main` then `python -m benchmarks.ingest_ab '{}' '{}' --checkout-a /tmp/base`.

Each configuration is a JSON object of environment variables for its server (on top of the benchmark's).
PostgreSQL and Redis as in benchmarks.ingest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import uuid
from pathlib import Path

import psycopg
import redis
from rich.console import Console
from rich.table import Table

from benchmarks._ingest_data import EventMix
from benchmarks._rig import ROOT, Server, database_url, drop_schemas, free_port, machine, percentile, redis_url
from benchmarks.ingest import send_batches, single_event_latencies
from declic.ingest.v1 import ingest_pb2

console = Console()


def run(configs: list[dict[str, str]], rounds: int, events: int, concurrency: int, checkouts: list[Path]
        ) -> tuple[list[list[float]], list[list[float]]]:
    """Events/s of each configuration in each round, and the ack latencies of single events (seconds), sent to
    one configuration then the other, 200 per round."""
    url, rurl = database_url(), redis_url()
    servers, prefixes = [], []
    try:
        for extra, checkout in zip(configs, checkouts, strict=True):
            prefix = f"bench_ab_{uuid.uuid4().hex[:8]}_"
            prefixes.append(prefix)
            port = free_port()
            env = {"DECLIC_DATABASE_URL": url, "DECLIC_REDIS_URL": rurl, "DECLIC_DB_SCHEMA_PREFIX": prefix,
                   "DECLIC_STREAM_PREFIX": prefix, "DECLIC_INGEST_PORT": str(port), "DECLIC_LOG_LEVEL": "WARNING",
                   **extra}
            servers.append(Server(["-m", "services.ingest"], env, port, checkout))
        mix = EventMix(seed=7, run=uuid.uuid4().hex[:8], customers=max(events * rounds // 8, 100))
        console.print(f"generating {2 * rounds * events:,} events ...")
        requests = [[[ingest_pb2.IngestBatchRequest(events=batch).SerializeToString()
                      for batch in mix.batches(events, 500, prefix=f"r{r}c{c}")] for c in range(len(configs))]
                    for r in range(rounds)]
        for server in servers:  # connections opened, caches of the process warm
            send_batches(server.channel, requests[0][0][:2], 1)
        singles = [[ingest_pb2.IngestEventRequest(event=e).SerializeToString()
                    for e in mix.batches(200 * rounds, 200 * rounds, prefix=f"single{c}")[0]]
                   for c in range(len(configs))]
        rates: list[list[float]] = [[] for _ in configs]
        latencies: list[list[float]] = [[] for _ in configs]
        for r in range(rounds):
            for c in (range(len(configs)) if r % 2 == 0 else reversed(range(len(configs)))):
                seconds, accepted = send_batches(servers[c].channel, requests[r][c], concurrency)
                rates[c].append(accepted / seconds)
                latencies[c] += single_event_latencies(servers[c].channel, singles[c][200 * r:200 * (r + 1)])
        return rates, latencies
    finally:
        for server in servers:
            server.stop()
        client = redis.Redis.from_url(rurl)
        for prefix in prefixes:
            client.delete(f"{prefix}:handoff")
            drop_schemas(url, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest_ab")
    parser.add_argument("a", nargs="?", default='{"DECLIC_INGEST_WRITER_PROCESS": "false"}',
                        help="configuration A: JSON object of DECLIC_* variables (default: the writer as a thread)")
    parser.add_argument("b", nargs="?", default="{}", help="configuration B (default: the defaults)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--events", type=int, default=40_000, help="events per configuration and round")
    parser.add_argument("--concurrency", type=int, default=4)
    for name in "ab":
        parser.add_argument(f"--checkout-{name}", type=Path, default=ROOT,
                            help=f"the source tree configuration {name.upper()} runs (default: this one)")
    args = parser.parse_args()
    configs = [json.loads(args.a), json.loads(args.b)]
    try:
        psycopg.connect(database_url(), connect_timeout=3).close()
        redis.Redis.from_url(redis_url()).ping()
    except Exception as exc:  # noqa: BLE001
        console.print(f"[yellow]ingest A/B skipped: PostgreSQL or Redis unreachable ({exc})[/]")
        return
    rates, latencies = run(configs, args.rounds, args.events, args.concurrency, [args.checkout_a, args.checkout_b])
    table = Table(title=f"Ingest A/B, {args.rounds} alternated rounds of {args.events:,} events, batches of 500, "
                        f"{args.concurrency} in flight")
    for column in ("round", "A ev/s", "B ev/s", "B / A"):
        table.add_column(column, justify="right")
    for r, (a, b) in enumerate(zip(*rates, strict=True), start=1):
        table.add_row(str(r), f"{a:,.0f}", f"{b:,.0f}", f"{b / a:.2f}")
    table.add_row("median", f"{statistics.median(rates[0]):,.0f}", f"{statistics.median(rates[1]):,.0f}",
                  f"{statistics.median(b / a for a, b in zip(*rates, strict=True)):.2f}")
    for name, values in zip("AB", latencies, strict=True):
        table.add_row(f"{name}: single event ack p50 / p99", "", "",
                      f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.99) * 1000:.1f} ms")
    console.print(f"A = {args.a} in {args.checkout_a}\nB = {args.b} in {args.checkout_b}")
    console.print(table)
    console.print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
