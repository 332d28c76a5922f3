"""Scenario's hand-off handler in process: `HandoffIntake.handle_batch` over generated records (no stream), with the
CPU per event of this process and of its PostgreSQL backend (read from /proc: PostgreSQL on this machine), and the
outcome (journeys, occurrences, records claimed) to compare trees by.

`python -m benchmarks.scenario_handler --mix realistic --batch 1000` — run two trees one after the other, in both
orders, against the same PostgreSQL (DECLIC_DATABASE_URL, or the bundled one of the tree run).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from benchmarks._rig import database_url, drop_schemas, redis_url
from benchmarks._scenario_data import forty_scenarios, records
from benchmarks.scenario import Rig, customers_for


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the PostgreSQL backend `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenario_handler")
    parser.add_argument("--mix", default="realistic")
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    url = database_url()
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench_handler_{tag}_"
    rig = Rig(url, redis_url(), prefix, forty_scenarios(Path(tempfile.mkdtemp()) / "scenarios"))
    try:
        payloads = list(records(args.events, customers_for(args.mix, args.events, 10_000), tag, mix=args.mix))
        with rig.uow.begin() as session:  # (the engine's pool keeps this one connection for the run)
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        load = os.getloadavg()[0]
        wall, cpu, backend = time.perf_counter(), time.process_time(), backend_cpu(pid)
        for start in range(0, len(payloads), args.batch):
            rig.intake.handle_batch(payloads[start:start + args.batch])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        backend = backend_cpu(pid) - backend
        with rig.uow.begin() as session:
            if session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid:
                raise RuntimeError("the handler's PostgreSQL backend changed during the run: its CPU is not known")
            journeys, occurrences = session.execute(
                text("SELECT count(*), coalesce(sum(occurrences), 0) FROM journeys")).one()
            claimed = session.execute(text("SELECT count(*) FROM inbox")).scalar_one()
        print(f"{args.mix}, batches of {args.batch}: {args.events / wall:,.0f} ev/s, client "
              f"{cpu / args.events * 1e6:.1f} µs/ev, PostgreSQL {backend / args.events * 1e6:.1f} µs/ev; "
              f"{journeys:,} journeys, {occurrences:,} occurrences, {claimed:,} records claimed; "
              f"load {load:.2f} at start")
    finally:
        rig.db.dispose()
        drop_schemas(url, prefix)


if __name__ == "__main__":
    main()
