"""What an order tells the model: units bought per product, and by whom."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PurchaseChange:
    """Units of one product to add to its popularity (negative: returned); `customer_id` empty when the
    customer is not to be remembered as its buyer."""

    customer_id: str
    product_id: str
    units: float


def purchase_changes(customer_id: str, lines: Iterable[tuple[str, float]], is_return: bool) -> list[PurchaseChange]:
    """The changes an order's (product, quantity) lines make.

    A return takes its units off the product's popularity but leaves the customer as a buyer (they did
    buy it); lines without a product or with no quantity change nothing.
    """
    sign = -1.0 if is_return else 1.0
    buyer = "" if is_return else customer_id
    return [
        PurchaseChange(buyer, product_id, sign * quantity)
        for product_id, quantity in lines
        if product_id and quantity > 0
    ]

