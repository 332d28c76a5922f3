"""Arbiter benchmark (issue 13).

1. Decisions per second through DecideBatch (batches of 100, the door's bound on a repeated field), one arbiter
   process (`python -m services.arbiter`, the shipped policies/pressure.yaml), against the raw Lua round trip
   measured in the same run: the same check-and-reserve script called from this process in pipelines of 100,
   with the limits the domain would pass (what the arbiter cannot beat: the rest is its own work).
2. Single Decide p50/p99 over gRPC, one call at a time, for people already in the counters.
Beside each: the CPU time the arbiter processes used per decision (psutil), which a loaded machine disturbs less
than the wall clock, and the load average at the end of the row.
3. The same with 4 replicas (4 processes over the same PostgreSQL and Redis).
4. One replica again with DECLIC_ARBITER_SYNCHRONOUS_DECISIONS=true: each decision's commit waits for the disk
   (the default commits asynchronously: see services/arbiter/settings.py).

PostgreSQL: DECLIC_DATABASE_URL or the bundled server; Redis: DECLIC_REDIS_URL or the bundled one (as
benchmarks/ingest.py). `python -m benchmarks.arbiter --decisions 20000 --latency-calls 2000`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psutil
import redis
from rich.console import Console
from rich.table import Table

from benchmarks._idle import idle_states
from benchmarks._rig import Server, database_url, drop_schemas, free_port, machine, redis_url
from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.common.v1 import identity_pb2, trigger_pb2
from declic.pressure.loader import load_policy
from services.arbiter.domain.pressure import limits_for
from services.arbiter.settings import DEFAULT_POLICY_FILE
from services.arbiter.storage.counters import PressureCounters, SlotAsk

console = Console(width=150)
BATCH = 100
EMAIL = identity_pb2.CHANNEL_EMAIL


def requests(prefix: str, count: int, customers: int, people: str = "") -> list[arbiter_pb2.DecideRequest]:
    """`count` firings spread over `customers` people (named after `people`, else `prefix`), each on its own
    originating event."""
    return [arbiter_pb2.DecideRequest(
        firing=trigger_pb2.TriggerFiring(firing_id=f"{prefix}-f{i}", scenario_id=f"s{i % 7}",
                                         customer_id=f"{people or prefix}-c{i % customers}",
                                         channels=[EMAIL, identity_pb2.CHANNEL_SMS],
                                         priority=i % 5, cause_event_id=f"{prefix}-e{i}"),
        contactable_channels=[EMAIL], timezone="Europe/Paris") for i in range(count)]


def cpu_seconds(servers: Sequence[Server]) -> float:
    """The CPU time (user + system) the arbiter processes used so far: a machine shared with other work slows the
    wall clock, much less this."""
    return sum(sum(psutil.Process(server.process.pid).cpu_times()[:2]) for server in servers)


def batch_rate(stubs: Sequence[arbiter_pb2_grpc.ArbiterServiceStub], asked: list[arbiter_pb2.DecideRequest],
               threads: int) -> float:
    batches = [arbiter_pb2.DecideBatchRequest(requests=asked[i:i + BATCH]) for i in range(0, len(asked), BATCH)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        answered = sum(pool.map(lambda pair: len(stubs[pair[0] % len(stubs)].DecideBatch(pair[1], timeout=120)
                                                 .decisions), enumerate(batches)))
    assert answered == len(asked)
    return answered / (time.perf_counter() - started)


def lua_rate(rurl: str, prefix: str, count: int, customers: int) -> float:
    """The raw check-and-reserve: the arbiter's script in pipelines of BATCH, with the shipped policy's limits."""
    policy = load_policy(DEFAULT_POLICY_FILE)
    counters = PressureCounters(redis.Redis.from_url(rurl), prefix)
    now, zone, keep = datetime.now(UTC), ZoneInfo("Europe/Paris"), policy.longest_window()
    for c in range(customers):
        counters.load(f"lua-c{c}", [], [], keep)
    limits = limits_for(policy, "email", "promotional", "e", now, zone)
    asks = [(f"lua-c{i % customers}", SlotAsk(f"lua-f{i}", "email", "promotional", i % 5, f"e{i}",
                                              now + timedelta(minutes=2)), limits) for i in range(count)]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        counters.reserve_many(asks[start:start + BATCH], now, keep)
    return count / (time.perf_counter() - started)


def latency(stubs: Sequence[arbiter_pb2_grpc.ArbiterServiceStub], asked: list[arbiter_pb2.DecideRequest]
            ) -> tuple[float, float]:
    times = []
    for i, request in enumerate(asked):
        started = time.perf_counter()
        stubs[i % len(stubs)].Decide(request, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
    quantiles = statistics.quantiles(times, n=100)
    return quantiles[49], quantiles[98]


def start(count: int, url: str, rurl: str, prefix: str, synchronous: bool = False) -> list[Server]:
    servers = []
    for _ in range(count):
        port = free_port()
        env = {"DECLIC_DATABASE_URL": url, "DECLIC_REDIS_URL": rurl, "DECLIC_DB_SCHEMA_PREFIX": prefix,
               "DECLIC_STREAM_PREFIX": prefix, "DECLIC_ARBITER_PORT": str(port), "DECLIC_LOG_LEVEL": "WARNING",
               "DECLIC_ARBITER_SYNCHRONOUS_DECISIONS": str(synchronous).lower()}
        servers.append(Server(["-m", "services.arbiter"], env, port))
    return servers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--latency-calls", type=int, default=2_000)
    parser.add_argument("--poll-idle", action="store_true", help="keep the CPUs out of idle states (benchmarks._idle)")
    args = parser.parse_args()
    with idle_states(args.poll_idle) as idle:
        run(args, idle)


def run(args: argparse.Namespace, idle: str) -> None:
    url, rurl, prefix = database_url(), redis_url(), f"bencharb{uuid.uuid4().hex[:6]}_"
    table = Table(title=f"Arbiter ({machine()}; {idle}; shared with other work)")
    for column in ("replicas", "DecideBatch decisions/s", "raw Lua decisions/s", "ratio", "arbiter CPU µs/decision",
                   "Decide p50 ms", "Decide p99 ms", "arbiter CPU µs/Decide", "load (1 min)"):
        table.add_column(column)
    try:
        # Decisions commit asynchronously by default; the last row waits for the disk at each commit.
        for replicas, threads, synchronous in ((1, 2, False), (4, 8, False), (1, 2, True)):
            servers = start(replicas, url, rurl, f"{prefix}{replicas}{synchronous:d}_", synchronous)
            try:
                stubs = [arbiter_pb2_grpc.ArbiterServiceStub(server.channel) for server in servers]
                run = f"r{replicas}{synchronous:d}"
                batch_rate(stubs, requests(run + "w", 2 * BATCH, BATCH), threads)  # warm up
                used = cpu_seconds(servers)
                rate = batch_rate(stubs, requests(run, args.decisions, args.customers), threads)
                batch_cpu = (cpu_seconds(servers) - used) / args.decisions
                raw = lua_rate(rurl, f"{prefix}{replicas}{synchronous:d}_lua", args.decisions, args.customers)
                # People already in the counters (the throughput run's), as most are in production.
                used = cpu_seconds(servers)
                p50, p99 = latency(stubs, requests(run + "l", args.latency_calls, args.customers, people=run))
                single_cpu = (cpu_seconds(servers) - used) / args.latency_calls
                load = f"{os.getloadavg()[0]:.1f}"
                label = f"{replicas}, fsync per commit" if synchronous else str(replicas)
                table.add_row(label, f"{rate:,.0f}", f"{raw:,.0f}", f"{rate / raw:.2f}",
                              f"{batch_cpu * 1e6:.0f}", f"{p50:.2f}", f"{p99:.2f}", f"{single_cpu * 1e6:.0f}", load)
            finally:
                for server in servers:
                    server.stop()
    finally:
        drop_schemas(url, prefix)
    console.print(table)
    console.print("targets: >= 5,000 decisions/s per process through DecideBatch; single Decide p99 < 5 ms")


if __name__ == "__main__":
    main()
