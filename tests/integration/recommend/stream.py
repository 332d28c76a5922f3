"""Hand-off records for recommend's integration tests, and waiting for what they change."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from declic.common.v1 import event_pb2, money_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import to_timestamp
from declic.recommending.interactions import PURCHASE, Corpus, Product

T = TypeVar("T")


def upsert(product: Product, in_stock: bool = True) -> handoff_pb2.HandoffRecord:
    event = event_pb2.Event(event_id=f"p-{product.product_id}-{in_stock}", source="catalogue", product_upsert=(
        event_pb2.ProductUpsert(product_id=product.product_id, name=product.name, categories=product.categories,
                                attributes=dict(product.attributes), in_stock=in_stock,
                                price=money_pb2.Money(currency_code="EUR", units=int(product.price or 0)))))
    return handoff_pb2.HandoffRecord(record_id=event.event_id, accepted_event=handoff_pb2.AcceptedEvent(event=event))


def order(order_id: str, customer_id: str, products: list[str], at: datetime) -> handoff_pb2.HandoffRecord:
    event = event_pb2.Event(event_id=order_id, source="pos", event_time=to_timestamp(at), order=event_pb2.Order(
        order_id=order_id, kind=event_pb2.ORDER_KIND_PURCHASE,
        lines=[event_pb2.OrderLine(product_id=p, quantity=1) for p in products]))
    return handoff_pb2.HandoffRecord(record_id=order_id, accepted_event=handoff_pb2.AcceptedEvent(
        customer_id=customer_id, event=event))


def page_view(record_id: str, customer_id: str, category: str, at: datetime) -> handoff_pb2.HandoffRecord:
    event = event_pb2.Event(event_id=record_id, source="web", event_time=to_timestamp(at),
                            page_view=event_pb2.PageView(url="/c", category=category))
    return handoff_pb2.HandoffRecord(record_id=record_id, accepted_event=handoff_pb2.AcceptedEvent(
        customer_id=customer_id, event=event))


def corpus_records(corpus: Corpus) -> list[bytes]:
    """The shop's catalogue, one order per (customer, order id), one page view per appetence."""
    records = [upsert(product) for product in corpus.products.values()]
    orders: dict[tuple[str, str], tuple[list[str], datetime]] = {}
    for item in corpus.interactions:
        if item.kind == PURCHASE:
            orders.setdefault((item.customer_id, item.order_id), ([], item.at))[0].append(item.product_id)
    records += [order(order_id, customer, products, at) for (customer, order_id), (products, at) in orders.items()]
    for customer, appetences in corpus.appetences.items():
        at = min(i.at for i in corpus.interactions)
        records += [page_view(f"pv-{customer}-{category}", customer, category, at) for category in appetences]
    return [record.SerializeToString() for record in records]


def wait_for(probe: Callable[[], T], accept: Callable[[T], bool], seconds: float = 15.0) -> T:
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if accept(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
