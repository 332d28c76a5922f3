"""`declic demo` (`make demo`): the main job end to end on real data.

Starts a private stack (its own ports, its own database and Redis under
var/demo), replays customers and orders of the UCI Online Retail data set in
data/ ("Online Retail", UCI Machine Learning Repository, donor Daqing Chen,
CC BY 4.0) through the ingest API, and reports what went out, on which
channel, what the arbiter held back and why. The orders and products are the
importer's events (those of `declic import --uci`: invoice times read in
London time, every refused row reported), not a conversion of the demo's own.

The UCI file has no e-mails, phones or consents: the demo gives each customer
a synthetic e-mail at example.com and, for a deterministic share of them, a
phone (+44 7400 1xxxxx, a valid UK mobile shape) and consents, so that every arbiter
outcome shows up.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import grpc
import redis
import typer
from rich.console import Console
from rich.progress import Progress

from declic.cli.demo_report import report, wait_for_profile
from declic.common.v1 import event_pb2, identity_pb2
from declic.importing.items import ImportItem, RowProblem
from declic.importing.runner import ImportRun, ImportSummary
from declic.importing.uci import UCI_FILE, read_uci
from declic.ingest.v1 import ingest_pb2_grpc
from declic.kit.clock import SharedClock, shared_clock_key
from declic.kit.config import SERVICES, load_settings
from declic.kit.ports import listening
from declic.kit.protoconv import to_datetime, to_timestamp
from declic.kit.redis_client import start_embedded_redis
from declic.kit.stream import stream_key
from declic.stack import REPO_ROOT, Stack

# 20051…: beside `make run` (50051…), and below the ephemeral ports (Linux: 32768–60999) that client connections
# and port-0 binds are given, one of which took a demo port between two services' starts (seen in CI).
DEMO_PORT_OFFSET = -30000
DEMO_REDIS_PORT = 6391
BATCH = 500
CLOCK_REFRESH = 0.6  # a little over SharedClock's re-read interval

console = Console()


def _bucket(customer_id: str) -> int:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:4], 16) % 100


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


def uci_history(customers: int, path: Path = UCI_FILE) -> list[ImportItem | RowProblem]:
    """The importer's events for the first `customers` UCI customers (in file order): their invoices, the products
    on them and a synthetic sign-up each, in time order; rows the importer could not read come first, to be
    reported like every refusal."""
    items = list(read_uci(path))
    first_invoices: dict[str, event_pb2.Event] = {}
    orders = []
    for item in items:
        if isinstance(item, ImportItem) and item.event.HasField("order"):
            identifier = item.event.identifiers[0]
            if identifier.type != identity_pb2.IDENTIFIER_TYPE_CRM_ID:
                continue  # a guest invoice: nobody to sign up
            if identifier.value not in first_invoices and len(first_invoices) < customers:
                first_invoices[identifier.value] = item.event
            if identifier.value in first_invoices:
                orders.append(item)
    bought = {line.product_id for item in orders for line in item.event.order.lines}
    products = [item for item in items if isinstance(item, ImportItem)
                and item.event.HasField("product_upsert") and item.event.product_upsert.product_id in bought]
    signups = [ImportItem(contact_event(customer, first.order.country, to_datetime(first.event_time)), ())
               for customer, first in first_invoices.items()]
    history = sorted(products + signups + orders,
                     key=lambda item: (item.event.event_time.seconds, item.event.HasField("order")))
    return [item for item in items if isinstance(item, RowProblem)] + history


def demo_stack(var_dir: Path) -> Stack:
    env = {
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


def replay(stub: ingest_pb2_grpc.IngestServiceStub, clock: SharedClock,
           history: list[ImportItem | RowProblem]) -> ImportSummary:
    """Send `history` (in time order) through the importer, moving the shared clock along with each batch."""

    def catch_up(events: list[event_pb2.Event]) -> None:
        clock.set(max(to_datetime(e.event_time) for e in events) + timedelta(minutes=1))
        time.sleep(CLOCK_REFRESH)  # every service has re-read the shared time

    with Progress(console=console) as progress:
        task = progress.add_task(f"replaying {len(history):,} events", total=len(history))
        return ImportRun(stub, batch_events=BATCH, timeout=60, before_batch=catch_up).send_all(
            history, lambda done: progress.advance(task, done))


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        customers: int = typer.Option(300, min=1, help="How many UCI customers to replay."),
    ) -> None:
        """Start a private stack, replay UCI Online Retail customers and orders, report what was sent and why not."""
        var_dir = (REPO_ROOT / "var" / "demo").resolve()
        stack = demo_stack(var_dir)
        taken = [port for port in (DEMO_REDIS_PORT, *(stack.settings.port(name) for name in SERVICES))
                 if listening(port)]
        if taken:  # the private stack's ports: another demo (or program) holds them, whose services would answer
            console.print(f"[red]port {taken[0]} of the demo's private stack is in use[/red]: another "
                          "`declic demo` still running? Wait for it or stop it, then try again.")
            raise typer.Exit(1)
        shutil.rmtree(var_dir, ignore_errors=True)
        redis_process = start_embedded_redis(var_dir, DEMO_REDIS_PORT)
        try:
            stack.start_database_if_needed()
            stack.start_all()
            with console.status("starting the six services…"):
                stack.wait_serving(timeout=90)
            with console.status(f"reading {UCI_FILE.name} with the importer…"):
                history = uci_history(customers)
            demo_redis = redis.Redis(port=DEMO_REDIS_PORT)
            clock = SharedClock(demo_redis, shared_clock_key("demo"))
            channel = grpc.insecure_channel(stack.address("ingest"))
            summary = replay(ingest_pb2_grpc.IngestServiceStub(channel), clock, history)
            last = max(to_datetime(item.event.event_time) for item in history if isinstance(item, ImportItem))
            clock.set(last + timedelta(days=1))
            console.print(f"simulated time now {clock.now():%Y-%m-%d %H:%M} UTC")
            wait_for_profile(demo_redis, stream_key(stack.settings.stream_prefix, "handoff"))
            report(stack, summary)
        finally:
            stack.stop_all()
            redis_process.terminate()
            redis_process.wait(timeout=10)
