"""Real data through the real front door: UCI Online Retail invoices sent to ingest over gRPC,
handed off to profile, and the computed attributes checked against an independent computation here.

Data: "Online Retail", UCI Machine Learning Repository, donor Daqing Chen (CC BY 4.0).
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from declic.common.v1 import event_pb2, identity_pb2
from declic.importing.uci import UCI_FILE
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import ManualClock
from declic.kit.protoconv import to_timestamp
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from tests.integration.profile.conftest import wait_until
from tests.integration.profile.records import money

# Seven invoices; eight with three returns; ten with eight returns; one purchase fully returned; 34 invoices.
CUSTOMERS = ("12347", "12352", "13047", "12346", "17850")
AS_OF = datetime(2011, 12, 10, tzinfo=UTC)


def _invoices() -> dict[str, list[dict[str, str]]]:
    invoices: dict[str, list[dict[str, str]]] = defaultdict(list)
    with gzip.open(UCI_FILE, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["CustomerID"] in CUSTOMERS and int(row["Quantity"]) != 0 and float(row["UnitPrice"]) > 0:
                invoices[row["InvoiceNo"]].append(row)
    return invoices


def _when(row: dict[str, str]) -> datetime:
    return datetime.fromisoformat(row["InvoiceDate"]).replace(tzinfo=UTC)


def _events(invoices: dict[str, list[dict[str, str]]]) -> list[event_pb2.Event]:
    events = []
    for invoice, rows in invoices.items():
        lines = [event_pb2.OrderLine(product_id=r["StockCode"], quantity=abs(int(r["Quantity"])),
                                     unit_price=money(float(r["UnitPrice"]), "GBP"), description=r["Description"])
                 for r in rows]
        is_return = invoice.startswith("C")
        events.append(event_pb2.Event(
            event_id=f"uci-{invoice}", source="uci", event_time=to_timestamp(_when(rows[0])),
            identifiers=[identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_CRM_ID,
                                                 value=rows[0]["CustomerID"])],
            order=event_pb2.Order(order_id=invoice, channel=event_pb2.ORDER_CHANNEL_ONLINE, lines=lines,
                                  kind=event_pb2.ORDER_KIND_RETURN if is_return else event_pb2.ORDER_KIND_PURCHASE),
        ))
    return events


def _expected(invoices: dict[str, list[dict[str, str]]], customer: str) -> dict[str, object]:
    """The figures computed by hand from the rows: no profile code involved."""
    purchases, returns = [], []
    for invoice, rows in invoices.items():
        if rows[0]["CustomerID"] != customer:
            continue
        cents = sum(abs(int(r["Quantity"])) * round(float(r["UnitPrice"]) * 100) for r in rows)
        (returns if invoice.startswith("C") else purchases).append((_when(rows[0]), cents))
    times = sorted(t for t, _ in purchases)
    value = sum(c for _, c in purchases) - sum(c for _, c in returns)
    window_start = AS_OF - timedelta(days=365)
    in_window = [(t, c) for t, c in purchases if t > window_start]
    window_value = sum(c for _, c in in_window) - sum(c for t, c in returns if t > window_start)
    days_since = (AS_OF - times[-1]).total_seconds() / 86400
    interval = (times[-1] - times[0]).total_seconds() / 86400 / (len(times) - 1) if len(times) > 1 else None

    def score(x: float, bounds: list[float]) -> int:
        return 1 + sum(1 for b in bounds if x > b)

    recency = 1 + sum(1 for b in (30, 90, 180, 365) if days_since <= b)
    frequency = score(len(in_window), [1, 2, 4, 8]) if in_window else 0
    monetary = score(window_value / 100, [100, 250, 500, 1000]) if in_window else 0
    # The documented default rules, in their order (docs/profile.md).
    since_first = (AS_OF - times[0]).total_seconds() / 86400
    if days_since > 365:
        stage = "LAPSED"
    elif days_since > 120 or (interval is not None and days_since > max(30, 2.0 * interval)):
        stage = "AT_RISK"
    elif len(times) >= 5 and value / 100 >= 500:
        stage = "LOYAL"
    elif since_first <= 90:
        stage = "NEW_CUSTOMER"
    else:
        stage = "ACTIVE"
    return {"order_count": len(times), "value_cents": value, "days_since": days_since, "interval": interval,
            "scores": (recency, frequency, monetary), "stage": stage, "first": times[0], "last": times[-1]}


def test_uci_customers_through_ingest_match_an_independent_computation(start_service) -> None:
    invoices = _invoices()
    clock = ManualClock(AS_OF)
    _, ingest_channel = start_service("ingest", clock=clock)
    _, profile_channel = start_service("profile", clock=clock)
    ingest = ingest_pb2_grpc.IngestServiceStub(ingest_channel)
    stub = profile_pb2_grpc.ProfileServiceStub(profile_channel)
    events = _events(invoices)
    response = ingest.IngestBatch(ingest_pb2.IngestBatchRequest(events=events))
    assert response.accepted == len(events), [r.errors for r in response.results if r.errors]

    def lookup(customer: str) -> profile_pb2.Profile:
        return stub.LookupProfile(profile_pb2.LookupProfileRequest(
            identifier=identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_CRM_ID, value=customer))).profile

    expected = {customer: _expected(invoices, customer) for customer in CUSTOMERS}

    def all_applied() -> bool:
        try:
            return all(len(lookup(c).last_orders) and lookup(c).order_count == expected[c]["order_count"]
                       and _cents(lookup(c).monetary_value) == expected[c]["value_cents"] for c in CUSTOMERS)
        except grpc.RpcError:
            return False

    wait_until(all_applied, timeout=30)
    for customer, want in expected.items():
        got = lookup(customer)
        assert got.order_count == want["order_count"], customer
        assert _cents(got.monetary_value) == want["value_cents"], customer
        assert got.monetary_value.currency_code == "GBP"
        assert got.first_order_at.ToDatetime(tzinfo=UTC) == want["first"]
        assert got.last_order_at.ToDatetime(tzinfo=UTC) == want["last"]
        assert got.rfm.days_since_last_order == pytest.approx(want["days_since"], abs=1e-6)
        if want["interval"] is None:
            assert got.average_interval_days == 0
        else:
            # Stored to the second: within a second of the exact mean.
            assert got.average_interval_days == pytest.approx(want["interval"], abs=1 / 86400)
        assert (got.rfm.recency_score, got.rfm.frequency_score, got.rfm.monetary_score) == want["scores"], customer
        assert profile_pb2.LifecycleStage.Name(got.lifecycle_stage) == f"LIFECYCLE_STAGE_{want['stage']}", customer


def _cents(value) -> int:
    return value.units * 100 + value.nanos // 10_000_000
