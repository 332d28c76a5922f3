"""Scenario benchmark: the journey engine against baselines measured in the same run.

1. The hand-off stream with 40 active scenarios: events/s through scenario's consumer (the StreamConsumer and
   HandoffIntake that `services.scenario.main.bootstrap` wires), for two mixes of events (`_scenario_data.MIXES`:
   the heavy one, where most events enter journeys, and a realistic one), against a consumer of the same stream
   that does nothing, and against one whose handler only claims the records in the inbox, one statement per
   batch (the floor a consumer that applies records exactly once pays), with the Python CPU per event.
2. Due steps/s: journeys due now taken by the journey worker (lease, entry, targeting, steps, firings stored),
   against claiming and saving them unchanged (the SQL floor of the same loop).
3. A daily time-based run: a segment of N profiles entered (one journey each; 1,000,000 by default, the issue's size).
4. Event → journey stored, p50/p99, with events published at 1,000/s while the consumer runs.

Profile is answered in this process for 2 and 3 (the figures are scenario's, not gRPC's); PostgreSQL and Redis as
for benchmarks.ingest (DECLIC_* or the bundled servers). `python -m benchmarks.scenario --events 10000` is quicker.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import redis
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from benchmarks._rig import database_url, drop_schemas, machine, percentile, redis_url
from benchmarks._scenario_data import StandInProfiles, forty_scenarios, records
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.config import load_settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.inbox import claim_records
from declic.kit.interpreter import freeze_start_up_objects, tune_garbage_collector
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamConsumer, StreamPublisher
from declic.scenarios.keys import entry_key_for
from declic.scenarios.loader import load_catalogue
from services.scenario.domain.journeys import new_journey
from services.scenario.domain.matching import Matcher
from services.scenario.engine import LEASE, JourneyEngine
from services.scenario.intake import HandoffIntake
from services.scenario.segments import SegmentRunner
from services.scenario.settings import ScenarioSettings
from services.scenario.storage.journeys import JourneyRepository
from services.scenario.storage.tables import inbox

console = Console()
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Rig:
    """Scenario's tables, engine and intake under one random prefix."""

    def __init__(self, url: str, rurl: str, prefix: str, folder: Path) -> None:
        settings = load_settings(database_url=url, redis_url=rurl, db_schema_prefix=prefix, stream_prefix=prefix,
                                 log_level="WARNING")
        self.db = make_engine(settings, "scenario")
        migrate(self.db, "scenario", settings)
        send_lists_in_binary(self.db)  # as services.scenario.main does
        self.uow = UnitOfWork(session_factory(self.db))
        self.clock = ManualClock(NOW)
        self.catalogue = load_catalogue(folder)
        self.profiles = StandInProfiles()
        self.engine = JourneyEngine(self.uow, self.clock, Matcher(self.catalogue.scenarios.values()), self.profiles)
        self.intake = HandoffIntake(self.uow, self.clock, self.engine)
        # The interpreter as in scenario's process: its collector tuned, start-up's objects frozen out of it.
        tune_garbage_collector()
        freeze_start_up_objects()


class DoNothing:
    """A consumer's handler that does nothing with the records: the stream's own cost (read, acknowledge)."""

    def __call__(self, payload: bytes) -> None:
        pass

    def handle_batch(self, payloads: list[bytes]) -> None:
        pass


class InboxOnly:
    """A handler that only claims its records in the inbox, one statement a batch, as scenario's intake does."""

    def __init__(self, uow: UnitOfWork, clock: ManualClock) -> None:
        self._uow, self._clock = uow, clock

    def __call__(self, payload: bytes) -> None:
        self.handle_batch([payload])

    def handle_batch(self, payloads: list[bytes]) -> None:
        ids = [handoff_pb2.HandoffRecord.FromString(payload).record_id for payload in payloads]
        with self._uow.begin() as session:
            claim_records(session, inbox, ids, self._clock.now())
            session.commit()


def consume(client: redis.Redis, stream: str, group: str, handler, count: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(Seconds, CPU seconds of this process) `handler` takes, through a StreamConsumer, to handle `count`
    records of `stream`."""
    consumer = StreamConsumer(client, stream, group, handler, batch_size=ScenarioSettings().handoff_batch,
                              block_ms=50)  # as scenario's main
    consumer.ensure_group()
    handled, started, cpu = 0, time.perf_counter(), time.process_time()
    while handled < count:
        handled += consumer.poll_once()
    return time.perf_counter() - started, time.process_time() - cpu


def customers_for(mix: str, events: int, customers: int) -> int:
    """The heavy mix spreads the events over `customers`; the realistic one gives each customer 20 events."""
    return customers if mix == "heavy" else max(1, events // 20)


def due_steps(rig: Rig, journeys: int) -> tuple[float, float]:
    """(steps/s of the journey worker, steps/s of claiming and saving unchanged) over `journeys` due journeys."""
    scenario = rig.catalogue.scenarios["lapsed-winback"]

    def seed(tag: str) -> None:
        template = new_journey(scenario, "", entry_key_for(scenario, "", NOW), NOW)
        with rig.uow.begin() as session:
            JourneyRepository(session).enter_segment(template, [f"{tag}{n}" for n in range(journeys)], NOW)
            session.commit()
    seed("floor")
    started = time.perf_counter()
    while True:
        with rig.uow.begin() as session:
            repository = JourneyRepository(session)
            claimed = repository.claim_due(NOW, LEASE, 500)
            for journey in claimed:
                journey.due_at = None
            repository.save_many(claimed, NOW)
            session.commit()
        if not claimed:
            break
    floor = journeys / (time.perf_counter() - started)
    seed("work")
    steps, started = 0, time.perf_counter()
    while handled := rig.engine.advance_due(500):  # entry, targeting, wait until 10:00 local; then the send
        steps += handled
    return steps / (time.perf_counter() - started), floor


def latencies(rig: Rig, client: redis.Redis, stream: str, tag: str, rate: int, seconds: int) -> list[float]:
    """Publish `rate` events/s for `seconds` s while scenario's consumer runs; each event's publish → committed."""
    published: dict[bytes, float] = {}
    stored: dict[bytes, float] = {}

    class Timed(HandoffIntake):
        def handle_batch(self, payloads):  # type: ignore[no-untyped-def]
            super().handle_batch(payloads)
            done = time.perf_counter()
            for payload in payloads:
                stored[payload[-40:]] = done

    consumer = StreamConsumer(client, stream, "latency", Timed(rig.uow, rig.clock, rig.engine), batch_size=200,
                              block_ms=5)
    consumer.ensure_group()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    publisher = StreamPublisher(client, stream)
    events = list(records(rate * seconds, 20_000, tag, seed=11))
    started = time.perf_counter()
    for n, payload in enumerate(events):
        due = started + n / rate
        while time.perf_counter() < due:
            time.sleep(0.0005)
        published[payload[-40:]] = time.perf_counter()
        publisher.publish([payload])
    deadline = time.perf_counter() + 60
    while len(stored) < len(events) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    return [stored[key] - at for key, at in published.items() if key in stored]


def handoff(rig: Rig, client: redis.Redis, stream: str, tag: str, mix: str,
            args: argparse.Namespace) -> dict[str, float]:
    """One mix of events through the three consumers: seconds and CPU seconds of each, journeys entered."""
    customers = customers_for(mix, args.events, args.customers)
    StreamPublisher(client, stream).publish(list(records(args.events, customers, tag, mix=mix)))
    nothing, _ = consume(client, stream, "nothing", DoNothing(), args.events)
    floor, floor_cpu = consume(client, stream, "floor", InboxOnly(rig.uow, rig.clock), args.events)
    with rig.uow.begin() as session:
        session.execute(inbox.delete())
        session.commit()
        before = JourneyRepository(session).count_open()
    work, cpu = consume(client, stream, "scenario", rig.intake, args.events)
    with rig.uow.begin() as session:
        entered = JourneyRepository(session).count_open() - before
        claimed = session.execute(select(func.count()).select_from(inbox)).scalar_one()
    return {"nothing": nothing, "floor": floor, "floor_cpu": floor_cpu, "work": work, "cpu": cpu,
            "entered": entered, "claimed": claimed}


def run(args: argparse.Namespace) -> None:
    url, rurl = database_url(), redis_url()
    client = redis.Redis.from_url(rurl)
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench_scenario_{tag}_"
    stream = f"{prefix}:handoff"
    rig = Rig(url, rurl, prefix, forty_scenarios(Path(tempfile.mkdtemp()) / "scenarios"))
    mixes: dict[str, dict[str, float]] = {}
    try:
        for mix in args.mixes.split(","):
            mixes[mix] = handoff(rig, client, f"{stream}-{mix}", f"{tag}{mix[0]}", mix, args)
        steps, steps_floor = due_steps(rig, args.journeys)
        rig.profiles.members = args.profiles
        runner = SegmentRunner(rig.uow, rig.clock, rig.profiles, batch=5000)
        started = time.perf_counter()
        run_entered = runner.run(rig.catalogue.scenarios["lapsed-winback"], rig.catalogue.scenarios[
            "lapsed-winback"].trigger.segment, "bench", NOW)  # type: ignore[arg-type]
        daily = time.perf_counter() - started
        lat = latencies(rig, client, f"{stream}-lat", f"{tag}l", args.rate, args.seconds)
    finally:
        client.delete(*(f"{stream}-{mix}" for mix in args.mixes.split(",")), f"{stream}-lat")
        rig.db.dispose()
        drop_schemas(url, prefix)
    table = Table(title=f"Scenario: {len(rig.catalogue.scenarios)} active scenarios")
    for column in ("measure", "figure", "baseline (same run)", "ratio", "target"):
        table.add_column(column)
    for mix, figures in mixes.items():
        work, cpu = figures["work"], figures["cpu"]
        table.add_row(f"hand-off consumed, {mix} mix ({args.events:,} events, {figures['entered']:,.0f} journeys "
                      f"entered, {figures['claimed']:,.0f} records claimed)",
                      f"{args.events / work:,.0f} ev/s, {cpu / args.events * 1e6:,.0f} µs CPU/ev",
                      f"{args.events / figures['nothing']:,.0f} ev/s (does nothing)",
                      f"{figures['nothing'] / work:.2f} ×", "≥ 10,000 ev/s")
        table.add_row("  a handler only claiming each record in the inbox (one statement a batch)", "",
                      f"{args.events / figures['floor']:,.0f} ev/s, "
                      f"{figures['floor_cpu'] / args.events * 1e6:,.0f} µs CPU/ev",
                      f"{figures['floor'] / work:.2f} ×", "")
    table.add_row(f"due steps ({args.journeys:,} journeys: entry, targeting, send)", f"{steps:,.0f} /s",
                  f"{steps_floor:,.0f} /s (claim + save)", f"{steps / steps_floor:.2f} ×", "≥ 2,000 /s")
    table.add_row(f"daily segment run ({run_entered:,} profiles entered)", f"{daily:.1f} s",
                  "(measured)" if run_entered >= 1_000_000
                  else f"→ 1,000,000 in ~{daily * 1_000_000 / max(run_entered, 1):.0f} s (extrapolated)", "",
                  "1M < 60 s")
    table.add_row(f"event → journey stored at {args.rate:,}/s ({len(lat):,} events)",
                  f"p50 {percentile(lat, 0.5) * 1000:.0f} ms", f"p99 {percentile(lat, 0.99) * 1000:.0f} ms", "", "")
    console.print(table)
    console.print(f"machine: {machine()}; PostgreSQL at {url.split('@')[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenario")
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--mixes", default="heavy,realistic", help="event mixes (benchmarks._scenario_data.MIXES)")
    parser.add_argument("--journeys", type=int, default=20_000)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
