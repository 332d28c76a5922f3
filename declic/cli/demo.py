"""`declic demo` (`make demo`): the main job end to end on real data.

Starts a private stack (its own ports, SQLite files under var/demo, its own
Redis), replays customers and orders of the UCI Online Retail data set
("Online Retail", UCI Machine Learning Repository, donor Daqing Chen,
CC BY 4.0) through the ingest API, and reports what went out, on which
channel, what the arbiter held back and why.

The UCI file has no e-mails, phones or consents: the demo gives each customer
a synthetic e-mail at example.com and, for a deterministic share of them, a
phone (+44 7400 1xxxxx, a valid UK mobile shape) and consents, so that every arbiter
outcome shows up.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import shutil
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import redis
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import SharedClock, shared_clock_key
from declic.kit.config import SERVICES, load_settings
from declic.kit.protoconv import channel_name, to_datetime, to_timestamp
from declic.kit.redis_client import start_embedded_redis
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.stack import REPO_ROOT, Stack

UCI_FILE = REPO_ROOT.parent / "shared" / "data" / "online_retail_uci" / "online_retail.csv.gz"
# 20051…: beside `make run` (50051…), and below the ephemeral ports (Linux: 32768–60999) that client connections
# and port-0 binds are given, one of which took a demo port between two services' starts (seen in CI).
DEMO_PORT_OFFSET = -30000
DEMO_REDIS_PORT = 6391
BATCH = 500
CLOCK_REFRESH = 0.6  # a little over SharedClock's re-read interval

console = Console()


def _bucket(customer_id: str) -> int:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:4], 16) % 100


def _money(amount: float) -> money_pb2.Money:
    units = int(amount)
    return money_pb2.Money(currency_code="GBP", units=units, nanos=round((amount - units) * 1e9))


def _consent(channel: int, granted: bool, when) -> identity_pb2.Consent:
    return identity_pb2.Consent(
        channel=channel,
        state=identity_pb2.CONSENT_STATE_GRANTED if granted else identity_pb2.CONSENT_STATE_DENIED,
        legal_basis=identity_pb2.LEGAL_BASIS_CONSENT,
        source="uci-demo",
        time=when,
    )


def contact_event(customer_id: str, country: str, first_seen: datetime) -> event_pb2.Event:
    """A sign-up for one UCI customer: 70 % e-mail opt-in, 10 % e-mail refused, 10 % SMS only, 10 % nothing."""
    bucket = _bucket(customer_id)
    when = to_timestamp(first_seen)
    identifiers = [
        identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_CRM_ID, value=customer_id),
        identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_EMAIL, value=f"Customer.{customer_id}@Example.com"),
    ]
    consents = []
    if bucket < 70:
        consents.append(_consent(identity_pb2.CHANNEL_EMAIL, True, when))
    elif bucket < 80:
        consents.append(_consent(identity_pb2.CHANNEL_EMAIL, False, when))
    elif bucket < 90:
        phone = f"+4474001{int(customer_id) % 100000:05d}"
        identifiers.append(identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_PHONE, value=phone))
        consents.append(_consent(identity_pb2.CHANNEL_SMS, True, when))
    return event_pb2.Event(
        event_id=f"signup-{customer_id}",
        source="crm",
        event_time=when,
        identifiers=identifiers,
        identify=event_pb2.Identify(
            first_name=f"Customer {customer_id}", reason="account_created", consents=consents,
            attributes={"country": country},
        ),
    )


def load_uci(customers: int) -> tuple[list[event_pb2.Event], list[event_pb2.Event]]:
    """Contacts and orders (returns for `C…` invoices) of the first `customers` UCI customers."""
    chosen: dict[str, tuple[str, datetime]] = {}
    invoices: dict[str, list[dict[str, str]]] = defaultdict(list)
    with gzip.open(UCI_FILE, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            customer = row["CustomerID"]
            if not customer:
                continue
            if customer not in chosen:
                if len(chosen) >= customers:
                    continue
                chosen[customer] = (row["Country"], datetime.fromisoformat(row["InvoiceDate"]).replace(tzinfo=UTC))
            invoices[row["InvoiceNo"]].append(row)
    contacts = [contact_event(c, country, seen) for c, (country, seen) in chosen.items()]
    orders = []
    for invoice, rows in invoices.items():
        is_return = invoice.startswith("C")
        lines = [
            event_pb2.OrderLine(
                product_id=r["StockCode"], quantity=abs(int(r["Quantity"])), unit_price=_money(float(r["UnitPrice"])),
                description=r["Description"],
            )
            for r in rows
            if int(r["Quantity"]) != 0 and float(r["UnitPrice"]) > 0
        ]
        if not lines:
            continue
        first = rows[0]
        orders.append(
            event_pb2.Event(
                event_id=f"invoice-{invoice}",
                source="webshop",
                event_time=to_timestamp(datetime.fromisoformat(first["InvoiceDate"]).replace(tzinfo=UTC)),
                identifiers=[
                    identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_CRM_ID, value=first["CustomerID"])
                ],
                order=event_pb2.Order(
                    order_id=invoice,
                    channel=event_pb2.ORDER_CHANNEL_ONLINE,
                    kind=event_pb2.ORDER_KIND_RETURN if is_return else event_pb2.ORDER_KIND_PURCHASE,
                    lines=lines,
                    country=first["Country"],
                ),
            )
        )
    orders.sort(key=lambda e: e.event_time.seconds)
    return contacts, orders


def demo_stack(var_dir: Path) -> Stack:
    env = {
        "DECLIC_DATABASE_URL": f"sqlite:///{var_dir}/{{service}}.db",
        "DECLIC_REDIS_URL": f"redis://127.0.0.1:{DEMO_REDIS_PORT}/0",
        "DECLIC_VAR_DIR": str(var_dir),
        "DECLIC_STREAM_PREFIX": "demo",
        # Simulated time shared by the six services: the replay happens "in" 2010-2011.
        "DECLIC_CLOCK": "shared",
    }
    for name in SERVICES:
        env[f"DECLIC_{name.upper()}_PORT"] = str(load_settings().port(name) + DEMO_PORT_OFFSET)
    settings = load_settings(**{k.removeprefix("DECLIC_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    return Stack(settings, env=env, log_dir=var_dir / "logs")


def replay(
    stub: ingest_pb2_grpc.IngestServiceStub, clock: SharedClock, label: str, events: list[event_pb2.Event]
) -> tuple[Counter, set[str]]:
    """Send `events` (in time order) in batches, moving the shared clock along with them;
    count the outcomes and collect the customers they landed on."""
    outcome: Counter = Counter()
    customer_ids: set[str] = set()
    with Progress(console=console) as progress:
        task = progress.add_task(label, total=len(events))
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            clock.set(max(to_datetime(e.event_time) for e in batch) + timedelta(minutes=1))
            time.sleep(CLOCK_REFRESH)  # every service has re-read the shared time
            response = stub.IngestBatch(ingest_pb2.IngestBatchRequest(events=batch), timeout=60)
            for result in response.results:
                outcome[ingest_pb2.EventStatus.Name(result.status).removeprefix("EVENT_STATUS_").lower()] += 1
                if result.customer_id:
                    customer_ids.add(result.customer_id)
            progress.advance(task, len(batch))
    return outcome, customer_ids


def settle(scenario: scenario_pb2_grpc.ScenarioServiceStub, customer_ids: list[str], timeout: float = 90):
    """Wait until no firing is pending; return every firing."""
    deadline = time.monotonic() + timeout
    firings: list = []
    with console.status("waiting for scenario, arbiter and dispatch to settle…"):
        while time.monotonic() < deadline:
            firings = [
                f for c in customer_ids
                for f in scenario.ListFirings(scenario_pb2.ListFiringsRequest(customer_id=c), timeout=5).firings
            ]
            if firings and all(f.state != scenario_pb2.FIRING_STATE_PENDING for f in firings):
                break
            time.sleep(1)
    return firings


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        customers: int = typer.Option(300, min=1, help="How many UCI customers to replay."),
    ) -> None:
        """Start a private stack, replay UCI Online Retail customers and orders, report what was sent and why not."""
        if not UCI_FILE.exists():
            console.print(f"[red]UCI data not found at {UCI_FILE}: the demo needs ../shared/data beside the repo[/red]")
            raise typer.Exit(2)
        var_dir = (REPO_ROOT / "var" / "demo").resolve()
        shutil.rmtree(var_dir, ignore_errors=True)
        stack = demo_stack(var_dir)
        redis_process = start_embedded_redis(var_dir, DEMO_REDIS_PORT)
        try:
            stack.start_all()
            with console.status("starting the six services…"):
                stack.wait_serving(timeout=90)
            contacts, orders = load_uci(customers)
            clock = SharedClock(redis.Redis(port=DEMO_REDIS_PORT), shared_clock_key("demo"))
            channel = grpc.insecure_channel(stack.address("ingest"))
            ingest = ingest_pb2_grpc.IngestServiceStub(channel)
            history = sorted(contacts + orders, key=lambda e: (e.event_time.seconds, e.HasField("order")))
            outcome, customer_ids = replay(ingest, clock, f"{len(contacts)} contacts, {len(orders)} orders", history)
            clock.set(to_datetime(history[-1].event_time) + timedelta(days=1))
            console.print(f"simulated time now {clock.now():%Y-%m-%d %H:%M} UTC")
            report(stack, outcome, sorted(customer_ids))
        finally:
            stack.stop_all()
            redis_process.terminate()
            redis_process.wait(timeout=10)


def profiles_table(stack: Stack) -> Table:
    """What profile made of the replayed history: customers per lifecycle stage, and who is overdue."""
    profile = profile_pb2_grpc.ProfileServiceStub(grpc.insecure_channel(stack.address("profile")))

    def count(segment: profile_pb2.Segment) -> int:
        request = profile_pb2.QuerySegmentRequest(segment=segment)
        return sum(len(batch.customer_ids) for batch in profile.QuerySegment(request, timeout=30))

    table = Table(title="Profiles at the end of the replay (segment queries on profile)")
    table.add_column("segment")
    table.add_column("customers", justify="right")
    for stage in profile_pb2.LifecycleStage.values():
        if stage == profile_pb2.LIFECYCLE_STAGE_UNSPECIFIED:
            continue
        name = profile_pb2.LifecycleStage.Name(stage).removeprefix("LIFECYCLE_STAGE_").lower().replace("_", " ")
        table.add_row(f"lifecycle: {name}", str(count(profile_pb2.Segment(lifecycle_stages=[stage]))))
    overdue = profile_pb2.Segment(repurchase_overdue=profile_pb2.RepurchaseOverdue(factor=1.2))
    table.add_row("repurchase overdue (> 1.2 × their usual interval)", str(count(overdue)))
    return table


def report(stack: Stack, outcome: Counter, customer_ids: list[str]) -> None:
    scenario = scenario_pb2_grpc.ScenarioServiceStub(grpc.insecure_channel(stack.address("scenario")))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(grpc.insecure_channel(stack.address("dispatch")))
    firings = settle(scenario, customer_ids)
    messages = dispatch.ListMessages(dispatch_pb2.ListMessagesRequest(limit=100_000), timeout=30).messages

    ingested = Table(title="Events through ingest")
    for column in ("accepted", "duplicate", "rejected"):
        ingested.add_column(column, justify="right")
    ingested.add_row(*(str(outcome[c]) for c in ("accepted", "duplicate", "rejected")))
    console.print(ingested)
    stats = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(stack.address("ingest"))).GetIngestStats(
        ingest_pb2.GetIngestStatsRequest(), timeout=10
    )
    rejected = [row for row in stats.rows if row.status == ingest_pb2.EVENT_STATUS_REJECTED]
    if rejected:
        reasons = Table(title="Rejected by ingest, by source and reason")
        for column in ("source", "reason", "events"):
            reasons.add_column(column)
        for row in sorted(rejected, key=lambda r: -r.count):
            reasons.add_row(row.source, row.reason, str(row.count))
        console.print(reasons)

    sent = Table(title="Messages sent, per scenario and channel")
    sent.add_column("scenario")
    sent.add_column("channel")
    sent.add_column("messages", justify="right")
    per_channel = Counter((m.scenario_id, channel_name(m.channel)) for m in messages)
    for (scenario_id, channel), count in sorted(per_channel.items()):
        sent.add_row(scenario_id, channel, str(count))
    console.print(sent)

    held = Table(title="Held back by the arbiter, and why")
    held.add_column("scenario")
    held.add_column("outcome")
    held.add_column("why")
    held.add_column("firings", justify="right")
    reasons = Counter(
        (f.firing.scenario_id, scenario_pb2.FiringState.Name(f.state).removeprefix("FIRING_STATE_").lower(), f.detail)
        for f in firings
        if f.state != scenario_pb2.FIRING_STATE_SENT
    )
    for (scenario_id, state, detail), count in sorted(reasons.items()):
        held.add_row(scenario_id, state, detail, str(count))
    console.print(held)
    console.print(profiles_table(stack))
    console.print(
        f"{len(firings)} firings for {len(customer_ids)} customers: {len(messages)} messages sent. "
        "(Opens, clicks, conversions and control-group uplift arrive with the dispatch KPIs.)"
    )
