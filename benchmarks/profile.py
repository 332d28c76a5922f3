"""Profile benchmark: lookups and segment queries over 1,000,000 profiles in PostgreSQL, and the cost
of applying hand-off events (one at a time, in batches, through the stream) — each figure beside its floor
measured in the same run.

The profiles are generated directly in PostgreSQL with set-based SQL (generate_series) in a
dedicated schema (`bench_profile`), and reused by later runs when the size matches.
`python -m benchmarks.profile --profiles 100000` for a quicker run; `--regenerate` to rebuild.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import grpc
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text

from benchmarks._rig import database_url
from declic.common.v1 import event_pb2, identity_pb2
from declic.kit.clock import ManualClock
from declic.kit.config import Settings, load_settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.protoconv import to_timestamp
from declic.kit.redis_client import start_embedded_redis
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamPublisher, stream_key
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from services.profile.domain.orders import to_epoch
from services.profile.domain.rules import ProfileRules
from services.profile.domain.segments import BirthdayToday, LastOrderContaining, RepurchaseOverdue, SegmentSpec
from services.profile.intake.consumer import ProfileIntake
from services.profile.main import INTAKE_BATCH
from services.profile.storage.segments import segment_query
from services.profile.storage.tables import customers, identifiers
from tests.integration.profile import records

console = Console()
T = TypeVar("T")
AS_OF = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SCHEMA_PREFIX = "bench_"
CATEGORIES = [f"'{name}'" for name in (
    "dog food", "cat food", "dog toys", "cat toys", "rodents", "birds", "aquarium", "denim", "skirts", "cosy",
    "shoes", "bags", "garden", "kitchen", "books", "games", "beauty", "sport", "baby", "tea")]
ZONES = "ARRAY['Europe/Paris','America/New_York','Asia/Tokyo','Europe/London','']"

# One statement per table, all derived from i. Customer i has i % 7 purchases; the last one
# 0–400 days before AS_OF; a usual interval of 20–119 days; one stored order (the last) with one line.
GENERATE = [
    """INSERT INTO customers (customer_id, status, first_name, last_name, birth_date, birth_month, birth_day, locale,
         timezone, inferred_timezone, attributes, field_times, first_seen_at, updated_at, order_count,
         first_order_ts, last_order_ts, avg_interval_seconds, monetary_cents, discounted_order_count, currency,
         email_contactable, sms_contactable, push_contactable, print_contactable, call_center_contactable)
       SELECT 'b' || lpad(i::text, 7, '0'), 'active', 'First' || i, 'Last' || i,
         make_date(1950 + i % 50, 1 + i % 12, 1 + (i / 12) % 28)::text, 1 + i % 12, 1 + (i / 12) % 28, 'fr-FR',
         (""" + ZONES + """)[1 + i % 5], '', '{}', '{}', to_timestamp(:as_of - 86400 * 800), to_timestamp(:as_of),
         n, CASE WHEN n > 0 THEN last_ts - interval_s * greatest(n - 1, 0) END, CASE WHEN n > 0 THEN last_ts END,
         CASE WHEN n > 1 THEN interval_s END, n * (2000 + i % 10000), i % (n + 1), 'EUR',
         i % 3 <> 0, i % 4 = 0, false, false, false
       FROM (SELECT i, i % 7 AS n, :as_of - (i::bigint * 2654435761 % (400 * 86400)) AS last_ts,
                    86400 * (20 + i % 100) AS interval_s
             FROM generate_series(0, :n - 1) AS i) AS g""",
    """INSERT INTO identifiers (id_type, value, customer_id, first_seen_at)
       SELECT t.id_type, CASE t.id_type WHEN 'email' THEN 'user' || i || '@example.com'
                                        WHEN 'phone' THEN '+3361' || lpad(i::text, 7, '0')
                                        ELSE 'LC' || i END,
              'b' || lpad(i::text, 7, '0'), to_timestamp(:as_of - 86400 * 800)
       FROM generate_series(0, :n - 1) AS i CROSS JOIN (VALUES ('email'), ('phone'), ('loyalty_card')) AS t(id_type)""",
    """INSERT INTO consents (customer_id, channel, state, legal_basis, source, given_at)
       SELECT 'b' || lpad(i::text, 7, '0'), 'email', 'granted', 'consent', 'bench', to_timestamp(:as_of - 86400 * 700)
       FROM generate_series(0, :n - 1) AS i WHERE i % 3 <> 0""",
    """INSERT INTO orders (order_id, kind, customer_id, ordered_at, ordered_ts, amount_cents, discount_cents, currency,
         channel, original_order_id, line_count)
       SELECT 'o' || customer_id, 'purchase', customer_id, to_timestamp(last_order_ts), last_order_ts,
              2000 + order_count * 100, 0, 'EUR', 'online', '', 1
       FROM customers WHERE order_count > 0""",
    """INSERT INTO order_lines (order_id, kind, line_no, customer_id, ordered_ts, product_id, category, pack_size,
         quantity, amount_cents)
       SELECT 'o' || customer_id, 'purchase', 0, customer_id, last_order_ts,
              'p' || (substr(customer_id, 2)::int % 5000),
              (ARRAY[""" + ",".join(CATEGORIES) + """])[1 + substr(customer_id, 2)::int % 20],
              CASE WHEN substr(customer_id, 2)::int % 10 = 0 THEN 'XL' ELSE 'M' END, 1, 2000
       FROM customers WHERE order_count > 0""",
    """INSERT INTO appetences (customer_id, dimension, value, score, anchor_ts)
       SELECT 'b' || lpad(i::text, 7, '0'), 'category', (ARRAY[""" + ",".join(CATEGORIES) + """])[1 + (i + k) % 20],
              1.0 + k, :as_of - 86400 * (i % 60)
       FROM generate_series(0, :n - 1) AS i CROSS JOIN (VALUES (0), (7)) AS t(k)""",
]


def bench_settings(database_url: str, redis_url: str) -> Settings:
    return load_settings(database_url=database_url, db_schema_prefix=SCHEMA_PREFIX, redis_url=redis_url,
                         stream_prefix=f"bench-profile-{uuid.uuid4().hex[:6]}", log_level="WARNING")


def ensure_profiles(settings: Settings, n: int, regenerate: bool) -> float:
    """Generate `n` profiles unless they are already there; returns the seconds spent (0 when reused)."""
    engine = make_engine(settings, "profile")
    migrate(engine, "profile", settings)
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(customers)).scalar_one()
        have_ids = conn.execute(select(func.count()).select_from(identifiers)).scalar_one()
    if have == n and have_ids == 3 * n and not regenerate:
        engine.dispose()
        return 0.0
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("TRUNCATE customers, identifiers, consents, consent_history, channel_blocks, orders, "
                          "order_lines, engagement_counts, appetences, products, suppressions, inbox, outbox"))
        for statement in GENERATE:
            conn.execute(text(statement), {"n": n, "as_of": to_epoch(AS_OF)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(call: Callable[[T], object], items: list[T]) -> list[float]:
    """Seconds taken by `call(item)` for each item, one after the other. The benchmark's own garbage
    collector is paused meanwhile: its pauses are the client's, not the service's."""
    samples = []
    gc.collect()
    gc.disable()
    try:
        for item in items:
            started = time.perf_counter()
            call(item)
            samples.append(time.perf_counter() - started)
    finally:
        gc.enable()
    return samples


def start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DECLIC_DATABASE_URL": settings.database_url, "DECLIC_DB_SCHEMA_PREFIX": SCHEMA_PREFIX,
           "DECLIC_REDIS_URL": settings.redis_url, "DECLIC_STREAM_PREFIX": settings.stream_prefix,
           "DECLIC_PROFILE_PORT": str(port), "DECLIC_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "services.profile"], env=env,
                               cwd=Path(__file__).resolve().parents[1])
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                return process
        except grpc.RpcError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("profile did not start within 60 s")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lookups(stub: profile_pb2_grpc.ProfileServiceStub, settings: Settings, n: int, count: int) -> list[list]:
    """Rows: (what, p50, p99), the last one the floor."""
    rnd = random.Random(7)
    people = [rnd.randrange(n) for _ in range(count)]
    formats = [
        (identity_pb2.IDENTIFIER_TYPE_EMAIL, lambda i: f"User{i}@Example.com"),
        (identity_pb2.IDENTIFIER_TYPE_PHONE, lambda i: f"06 1{i // 1000000 % 10}{i % 1000000:06d}"),
        (identity_pb2.IDENTIFIER_TYPE_LOYALTY_CARD, lambda i: f"LC{i}"),
    ]

    labels = ("e-mail, mixed case", "phone, national format", "loyalty card")
    requests = [profile_pb2.LookupProfileRequest(identifier=identity_pb2.Identifier(
        type=formats[k % 3][0], value=formats[k % 3][1](i))) for k, i in enumerate(people)]
    warm_up = [profile_pb2.LookupProfileRequest(identifier=identity_pb2.Identifier(
        type=identity_pb2.IDENTIFIER_TYPE_LOYALTY_CARD, value=f"LC{rnd.randrange(n)}")) for _ in range(500)]
    timed(stub.LookupProfile, warm_up)  # connections, prepared statements, caches
    # The formats are interleaved, so each sees the same share of cold pages.
    samples = timed(stub.LookupProfile, requests)
    rows = [[f"LookupProfile over gRPC, {label}", *percentiles(samples[k::3])] for k, label in enumerate(labels)]
    rows.append(["LookupProfile over gRPC, all formats", *percentiles(samples)])
    get_samples = timed(stub.GetProfile, [profile_pb2.GetProfileRequest(customer_id=f"b{i:07d}") for i in people])
    rows.append(["GetProfile over gRPC, by id", *percentiles(get_samples)])
    engine = make_engine(settings, "profile")
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        sql = "SELECT customer_id FROM identifiers WHERE id_type = %s AND value = %s"

        def select_by_email(i: int) -> object:
            cursor.execute(sql, ("email", f"user{i}@example.com"), prepare=True)
            return cursor.fetchall()

        timed(select_by_email, people[:200])
        floor = timed(select_by_email, people)
    engine.dispose()
    return [*rows, ["floor: indexed SELECT by identifier alone (psycopg, prepared)", *percentiles(floor)]]


SEGMENTS = {
    "birthday today, e-mail contactable": (
        SegmentSpec(BirthdayToday(), contactable_on=("email",)),
        profile_pb2.Segment(birthday_today=profile_pb2.BirthdayToday(), contactable_on=[identity_pb2.CHANNEL_EMAIL])),
    "repurchase overdue (> 1.2 × usual interval), all": (
        SegmentSpec(RepurchaseOverdue(1.2)),
        profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(factor=1.2))),
    "repurchase overdue, became so in the last day": (
        SegmentSpec(RepurchaseOverdue(1.2, within_days=1)),
        profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(factor=1.2, within_days=1))),
    "last order 14 days ago with dog food (XL: 21), e-mail contactable": (
        SegmentSpec(LastOrderContaining("dog food", 14, {"XL": 21}), contactable_on=("email",)),
        profile_pb2.Segment(last_order_containing=profile_pb2.LastOrderContaining(
            category="dog food", days_ago=14, days_ago_by_pack_size={"XL": 21}),
            contactable_on=[identity_pb2.CHANNEL_EMAIL])),
}


def segments(stub: profile_pb2_grpc.ProfileServiceStub, settings: Settings) -> list[list]:
    """Rows: (what, ids, seconds over gRPC, seconds of the bare SQL)."""
    rules = ProfileRules()
    engine = make_engine(settings, "profile")
    rows = []
    for name, (spec, message) in SEGMENTS.items():
        request = profile_pb2.QuerySegmentRequest(segment=message, as_of=to_timestamp(AS_OF))
        list(stub.QuerySegment(request))  # warm-up
        started = time.perf_counter()
        ids = sum(len(response.customer_ids) for response in stub.QuerySegment(request))
        over_grpc = time.perf_counter() - started
        sql = str(segment_query(spec, AS_OF, rules.lifecycle, rules.default_timezone).compile(
            engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            started = time.perf_counter()
            cursor.execute(sql)
            bare = len(cursor.fetchall())
            bare_seconds = time.perf_counter() - started
        assert bare == ids, (name, bare, ids)
        rows.append([name, ids, over_grpc, bare_seconds])
    engine.dispose()
    return rows


def update_events(n: int, count: int) -> list:
    """A realistic mix on existing profiles: identify, order, product view, e-mail opened."""
    rnd = random.Random(11)
    run = uuid.uuid4().hex[:8]
    made = []
    for k in range(count):
        i = rnd.randrange(n)
        cid, email = f"b{i:07d}", [records.ident("email", f"user{i}@example.com")]
        at = AS_OF - timedelta(days=rnd.randrange(300), seconds=rnd.randrange(86400))
        kind = k % 4
        if kind == 0:
            made.append(records.identify(cid, at, email, first_name=f"F{k}",
                                         consents=[records.consent("sms", k % 8 == 0, at)]))
        elif kind == 1:
            made.append(records.order(cid, at, f"bench-{run}-{k}", [("p1", "dog food", 2, 12.5),
                                                                     ("p2", "dog toys", 1, 4.0)]))
        elif kind == 2:
            made.append(records.accepted(cid, at, email, product_view=event_pb2.ProductView(
                product_id="p3", category="cat food")))
        else:
            made.append(records.accepted(cid, at, email, message_engagement=event_pb2.MessageEngagement(
                message_id=f"m-{run}-{k}", channel=identity_pb2.CHANNEL_EMAIL,
                kind=event_pb2.ENGAGEMENT_KIND_OPENED)))
    return made


BATCH = INTAKE_BATCH  # records the stream consumer reads, and applies in one transaction, at a time


def applied_in_process(updater: ProfileIntake, n: int, count: int, label: str) -> list[list]:
    """Rows: the mix applied one transaction per event, then in batches of BATCH (as the stream consumer does)."""
    samples = timed(updater, [record.SerializeToString() for record in update_events(n, count)])
    payloads = [record.SerializeToString() for record in update_events(n, count)]
    batches = timed(updater.handle_batch, [payloads[start:start + BATCH] for start in range(0, count, BATCH)])
    batch_p50, batch_p99 = percentiles(batches)
    return [[f"{label}: in-process, one transaction per event", count, *percentiles(samples), count / sum(samples)],
            [f"{label}: in-process, batches of {BATCH} (p50 {batch_p50:.0f} ms, p99 {batch_p99:.0f} ms a batch)",
             count, None, None, count / sum(batches)]]


def updates(settings: Settings, n: int, count: int, client: redis.Redis) -> list[list]:
    """Rows: (what, events, per event p50 ms, p99 ms, events/s)."""
    engine = make_engine(settings, "profile")
    send_lists_in_binary(engine)  # as services.profile.main wires it
    updater = ProfileIntake(UnitOfWork(session_factory(engine)), ManualClock(AS_OF), ProfileRules())
    rows = applied_in_process(updater, n, count, "PostgreSQL")
    engine.dispose()
    stream = stream_key(settings.stream_prefix, "handoff")
    through_stream = update_events(n, count)
    started = time.perf_counter()
    StreamPublisher(client, stream).publish([record.SerializeToString() for record in through_stream])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        group = {g["name"]: g for g in client.xinfo_groups(stream)}.get(b"profile")
        last = client.xrevrange(stream, count=1)[0][0]
        if group and group["pending"] == 0 and group["last-delivered-id"] == last:
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    rows.append(["PostgreSQL: published on the hand-off stream → consumed by the server", count, None, None,
                 count / elapsed])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the profiles even if present")
    parser.add_argument("--database-url", default="",
                        help="default: DECLIC_DATABASE_URL, else the bundled PostgreSQL (var/bench/postgres)")
    args = parser.parse_args()
    args.database_url = args.database_url or database_url()
    redis_process = None
    redis_url = os.environ.get("DECLIC_REDIS_URL", "")
    if not redis_url:
        port = free_port()
        redis_process = start_embedded_redis(Path(tempfile.mkdtemp(prefix="bench-redis-")), port)
        redis_url = f"redis://127.0.0.1:{port}/0"
    settings = bench_settings(args.database_url, redis_url)
    with console.status(f"generating {args.profiles:,} profiles in PostgreSQL (generate_series)…"):
        generation = ensure_profiles(settings, args.profiles, args.regenerate)
    console.print(f"profiles: {args.profiles:,} "
                  + (f"generated in {generation:.1f} s" if generation else "reused from a previous run"))
    port = free_port()
    server = start_server(settings, port)
    client = redis.Redis.from_url(redis_url)
    try:
        stub = profile_pb2_grpc.ProfileServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        with console.status("lookups…"):
            lookup_rows = lookups(stub, settings, args.profiles, args.lookups)
        with console.status("segments…"):
            segment_rows = segments(stub, settings)
        with console.status("incremental updates…"):
            update_rows = updates(settings, args.profiles, args.events, client)
    finally:
        server.terminate()
        server.wait(timeout=30)
        client.delete(stream_key(settings.stream_prefix, "handoff"))  # once its consumer is gone
        if redis_process is not None:
            redis_process.terminate()
    report(args, lookup_rows, segment_rows, update_rows)


def report(args: argparse.Namespace, lookup_rows: list, segment_rows: list, update_rows: list) -> None:
    table = Table(title=f"Lookups over {args.profiles:,} profiles ({args.lookups:,} calls, sequential, "
                               "formats interleaved)")
    for column in ("call", "p50 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "call" else "left")
    for name, p50, p99 in lookup_rows:
        table.add_row(name, f"{p50:.2f}", f"{p99:.2f}")
    console.print(table)
    console.print("target p99 < 5 ms; the floor is SELECT customer_id FROM identifiers WHERE (type, value)")
    table = Table(title=f"Segment queries over {args.profiles:,} profiles (every id streamed)")
    for column in ("segment", "ids", "over gRPC s", "bare SQL s"):
        table.add_column(column, justify="right" if column != "segment" else "left")
    for name, ids, over_grpc, bare in segment_rows:
        table.add_row(name, f"{ids:,}", f"{over_grpc:.3f}", f"{bare:.3f}")
    console.print(table)
    console.print("bare SQL: the same compiled statement run with psycopg, all rows fetched; target < 2 s")
    table = Table(title="Incremental update cost (hand-off events: identify / order / view / open mix)")
    for column in ("path", "events", "p50 ms", "p99 ms", "events/s"):
        table.add_column(column, justify="right" if column != "path" else "left")
    for name, count, p50, p99, rate in update_rows:
        table.add_row(name, f"{count:,}", "—" if p50 is None else f"{p50:.2f}", "—" if p99 is None else f"{p99:.2f}",
                      f"{rate:,.0f}")
    console.print(table)


if __name__ == "__main__":
    main()
