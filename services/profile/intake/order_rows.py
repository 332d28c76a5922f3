"""The rows an order is stored as: the order, and its lines completed from the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.profile.domain.commands import RecordOrder
from services.profile.domain.orders import to_epoch


def order_row(customer_id: str, order: RecordOrder, ordered_at: datetime) -> dict[str, Any]:
    return dict(order_id=order.order_id, kind=order.kind, customer_id=customer_id, ordered_at=ordered_at,
                ordered_ts=to_epoch(ordered_at), amount_cents=order.amount_cents,
                discount_cents=order.discount_cents, currency=order.currency, channel=order.channel,
                original_order_id=order.original_order_id, line_count=len(order.lines))


def line_rows(customer_id: str, order: RecordOrder, ordered_at: datetime,
              catalogue: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's lines, completed from the catalogue when it knows their product."""
    rows = []
    for line_no, line in enumerate(order.lines):
        known = catalogue.get(line.product_id)
        rows.append(dict(
            order_id=order.order_id, kind=order.kind, line_no=line_no, customer_id=customer_id,
            ordered_ts=to_epoch(ordered_at), product_id=line.product_id,
            category=line.category or (known.category if known else ""),
            pack_size=known.pack_size if known else "", quantity=line.quantity, amount_cents=line.amount_cents,
            catalogued=known is not None,
        ))
    return rows
