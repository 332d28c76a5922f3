"""`make fuzz`: 100,000 fuzzed requests over every public RPC of the six services running as processes (auth off),
sent from several threads; prints per RPC the inputs sent and the statuses seen, the INTERNAL count, and per
service its RSS before and after and its log lines. The issue's acceptance: 0 INTERNAL, ingest's RSS grows < 50 MB.

Inputs: per RPC, `--fresh` requests drawn by hypothesis from the message descriptors (tests/fuzz/requests.py:
any field and value, broken bytes), and the rest derived from them by cheap mutations (cut, bytes changed or
inserted, two requests concatenated — which protobuf reads as one merged message), so that 100,000 inputs take
minutes, not the half hour hypothesis alone would. PostgreSQL and Redis as in benchmarks/ingest.py; everything
is written under a random prefix, dropped at the end. `python -m benchmarks.fuzz --inputs 20000` for a quicker run.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import redis
from hypothesis import HealthCheck, Phase, given, settings
from rich.console import Console
from rich.table import Table

from benchmarks._rig import ROOT, database_url, drop_schemas, machine, redis_url
from declic.kit.config import SERVICES
from declic.stack import Stack
from tests.fuzz.requests import Method, public_methods, request_bytes
from tests.fuzz.target import resident_bytes, running_services, send, serving, warm_up

console = Console(width=150)
FAILURES = {"INTERNAL", "UNKNOWN"}
MiB = 2**20
ACCEPTED_INGEST_GROWTH_MB = 50


def drawn(method: Method, count: int) -> list[bytes]:
    """`count` requests for `method` drawn by hypothesis (fewer when it finds no more distinct ones)."""
    found: list[bytes] = []

    @settings(max_examples=count, phases=[Phase.generate], derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(request_bytes(method.input))
    def collect(data: bytes) -> None:
        found.append(data)

    collect()
    return found


def mutated(pool: list[bytes], rng: random.Random) -> bytes:
    """One input derived from the drawn ones: as drawn, cut, bytes changed or inserted, or two concatenated."""
    data = rng.choice(pool)
    kind = rng.randrange(5)
    if kind == 1 and data:
        return data[:rng.randrange(len(data))]
    if kind == 2 and data:
        changed = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            changed[rng.randrange(len(changed))] = rng.randrange(256)
        return bytes(changed)
    if kind == 3:
        at = rng.randint(0, len(data))
        return data[:at] + rng.randbytes(rng.randint(1, 8)) + data[at:]
    if kind == 4:
        return data + rng.choice(pool)
    return data


def memory(stack: Stack) -> dict[str, int]:
    """RSS per service's gRPC process, and ingest with its child processes (writer, relay)."""
    figures = {service: resident_bytes(stack, service) for service in SERVICES}
    figures["ingest + children"] = resident_bytes(stack, "ingest", with_children=True)
    return figures


def settled_memory(stack: Stack, timeout: float = 60.0) -> dict[str, int]:
    """`memory` once no figure moves by more than 1 MiB in 2 s: ingest's children are still importing for
    seconds after the gRPC process answers (33 -> 100 MB), which would read as growth."""
    deadline = time.monotonic() + timeout
    figures = memory(stack)
    while time.monotonic() < deadline:
        time.sleep(2)
        previous, figures = figures, memory(stack)
        if all(abs(figures[name] - previous[name]) < MiB for name in figures):
            break
    return figures


def fuzz(stack: Stack, methods: list[Method], args: argparse.Namespace) -> dict[str, Counter[str]]:
    """Send `args.inputs` inputs spread over `methods` from `args.threads` threads; statuses per RPC path."""
    started = time.perf_counter()
    pools = {method.path: drawn(method, args.fresh) for method in methods}
    console.print(f"drew {sum(map(len, pools.values())):,} requests with hypothesis in "
                  f"{time.perf_counter() - started:.0f} s")
    channels = {service: grpc.insecure_channel(stack.address(service)) for service in SERVICES}
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    failing: list[tuple[str, bytes]] = []
    counting = threading.Lock()

    def one(number: int) -> None:
        rng = random.Random(args.seed * 1_000_003 + number)
        method = methods[number % len(methods)]
        pool = pools[method.path]
        data = pool[number // len(methods)] if number // len(methods) < len(pool) else mutated(pool, rng)
        status = send(channels[method.service], method, data).name
        with counting:
            statuses[method.path][status] += 1
            if status in FAILURES and len(failing) < 20:
                failing.append((method.path, data))

    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        for _ in pool.map(one, range(args.inputs)):
            pass
    elapsed = time.perf_counter() - started
    console.print(f"sent {args.inputs:,} inputs in {elapsed:.0f} s ({args.inputs / elapsed:,.0f}/s, "
                  f"{args.threads} threads)")
    for path, data in failing:
        console.print(f"[red]{path}[/red] failed on {data[:200].hex()}")
    for channel in channels.values():
        channel.close()
    return statuses


@dataclass
class LogCounts:
    """Lines a service logged, and how many of them at ERROR or in a traceback."""

    log_dir: Path

    def __call__(self, service: str) -> str:
        lines = (self.log_dir / f"{service}.log").read_text(errors="replace").splitlines()
        errors = sum(" ERROR " in line or line.startswith("Traceback") for line in lines)
        return f"{len(lines):,} ({errors:,})"


def report(methods: list[Method], statuses: dict[str, Counter[str]], before: dict[str, int],
           after: dict[str, int], log_lines: Callable[[str], str], alive: dict[str, bool]) -> None:
    calls = Table(title="Fuzzed requests per RPC")
    for column in ("RPC", "inputs", "statuses seen", "INTERNAL/UNKNOWN"):
        calls.add_column(column, justify="left" if column in ("RPC", "statuses seen") else "right")
    for method in methods:
        seen = statuses[method.path]
        listed = ", ".join(f"{code} {count:,}" for code, count in seen.most_common())
        calls.add_row(f"{method.service}.{method.name}", f"{sum(seen.values()):,}", listed,
                      f"{sum(seen[code] for code in FAILURES):,}")
    total = sum((counter for counter in statuses.values()), Counter())
    calls.add_row("all", f"{sum(total.values()):,}", ", ".join(f"{c} {n:,}" for c, n in total.most_common()),
                  f"{sum(total[code] for code in FAILURES):,}")
    console.print(calls)
    servers = Table(title="Server processes")
    for column in ("process", "RSS before", "RSS after", "growth", "log lines (ERROR, tracebacks)", "SERVING after"):
        servers.add_column(column, justify="left" if column == "process" else "right")
    for name in before:
        service = name.split(" ")[0]
        servers.add_row(name, f"{before[name] / MiB:.1f} MiB", f"{after[name] / MiB:.1f} MiB",
                        f"{(after[name] - before[name]) / MiB:+.1f} MiB", log_lines(service),
                        "yes" if alive[service] else "NO")
    console.print(servers)
    failures = sum(total[code] for code in FAILURES)
    growth = (after["ingest"] - before["ingest"]) / 1e6
    verdict = "met" if failures == 0 and growth < ACCEPTED_INGEST_GROWTH_MB and all(alive.values()) else "NOT met"
    console.print(f"acceptance (0 INTERNAL/UNKNOWN, ingest grows < {ACCEPTED_INGEST_GROWTH_MB} MB, every service "
                  f"SERVING after): {verdict} ({failures:,} failures, ingest +{growth:.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000, help="requests to send, over all RPCs")
    parser.add_argument("--fresh", type=int, default=300, help="requests drawn by hypothesis per RPC")
    parser.add_argument("--threads", type=int, default=8, help="client threads sending")
    parser.add_argument("--seed", type=int, default=11, help="seed of the mutations")
    args = parser.parse_args()
    console.print(f"machine: {machine()}")
    url, rurl, prefix = database_url(), redis_url(), f"fz{uuid.uuid4().hex[:8]}"
    methods = public_methods()
    log_dir = ROOT / "var" / "bench" / f"fuzz-{prefix}" / "logs"  # kept: what the servers logged during the run
    console.print(f"server logs: {log_dir}")
    try:
        with running_services(url, rurl, prefix, log_dir.parent) as stack:
            warm_up(stack, methods)
            before = settled_memory(stack)
            statuses = fuzz(stack, methods, args)
            after = settled_memory(stack)
            alive = {service: serving(stack, service) for service in SERVICES}
        report(methods, statuses, before, after, LogCounts(log_dir), alive)
    finally:
        drop_schemas(url, prefix)
        client = redis.Redis.from_url(rurl)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)

if __name__ == "__main__":
    main()
