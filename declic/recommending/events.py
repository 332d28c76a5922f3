"""From protobuf events (the hand-off's, or an import file's) to what the model reads: one translation, used by
recommend's intake and by the evaluation's UCI loader."""

from __future__ import annotations

from datetime import datetime

from declic.common.v1 import event_pb2, money_pb2
from declic.recommending.interactions import CART, PURCHASE, RETURN, VIEW, Interaction, Product

REPLENISHMENT_ATTRIBUTE = "replenishment"
"""A product upsert attribute ("true"): bought again and again (food, litter), so suggested even if bought before."""


def amount(money: money_pb2.Money) -> float | None:
    value = money.units + money.nanos / 1e9
    return value if money.currency_code or value else None


def interactions_of(event: event_pb2.Event, customer_id: str, at: datetime) -> list[Interaction]:
    """A product view, a cart add, an order's lines (purchase or return); nothing for other events."""
    payload = event.WhichOneof("payload")
    if not customer_id:
        return []
    if payload == "product_view" and event.product_view.product_id:
        return [Interaction(customer_id, event.product_view.product_id, VIEW, at)]
    if payload == "cart_change":
        change = event.cart_change
        if change.action == event_pb2.CART_ACTION_ADD and change.product_id:
            return [Interaction(customer_id, change.product_id, CART, at, float(max(change.quantity, 1)))]
        return []
    if payload == "order":
        order = event.order
        kind = RETURN if order.kind == event_pb2.ORDER_KIND_RETURN else PURCHASE
        return [
            Interaction(customer_id, line.product_id, kind, at, float(line.quantity), order.order_id)
            for line in order.lines
            if line.product_id and line.quantity > 0
        ]
    return []


def appetence_of(event: event_pb2.Event) -> str:
    """The category an event shows interest in (a page or product view of a category), or ""."""
    payload = event.WhichOneof("payload")
    if payload == "page_view":
        return event.page_view.category
    if payload == "product_view":
        return event.product_view.category
    return ""


def product_of(upsert: event_pb2.ProductUpsert) -> Product:
    """The catalogue entry; in stock only while in stock and not withdrawn."""
    categories = list(upsert.categories) or ([upsert.category] if upsert.category else [])
    attributes = dict(upsert.attributes)
    return Product(
        product_id=upsert.product_id,
        name=upsert.name,
        categories=tuple(dict.fromkeys(categories)),
        attributes=tuple(sorted((k, v) for k, v in attributes.items() if k != REPLENISHMENT_ATTRIBUTE)),
        price=amount(upsert.price),
        in_stock=upsert.in_stock and not upsert.deleted,
        replenishment=attributes.get(REPLENISHMENT_ATTRIBUTE, "").lower() in {"true", "1", "yes"},
    )
