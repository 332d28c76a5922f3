"""What a person did with a product, and what it is worth to the model: weighted by kind, decayed with age."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

VIEW, CART, PURCHASE, RETURN = "view", "cart", "purchase", "return"
KIND_WEIGHTS = {VIEW: 1.0, CART: 3.0, PURCHASE: 5.0, RETURN: -5.0}
"""A purchase says more than a cart add, which says more than a view; a return takes a purchase back."""
HALF_LIFE_DAYS = 120.0
"""An interaction counts half as much after this many days."""


@dataclass(frozen=True)
class Interaction:
    customer_id: str
    product_id: str
    kind: str
    at: datetime
    quantity: float = 1.0
    order_id: str = ""
    """The order a purchase was part of (baskets for bought-together); empty for views and carts."""


@dataclass(frozen=True)
class Product:
    """A catalogue entry as the model sees it."""

    product_id: str
    name: str = ""
    categories: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    price: float | None = None
    in_stock: bool = True
    replenishment: bool = False


@dataclass
class Corpus:
    """Everything a model is trained on: interactions, catalogue and the customers' appetences (category → weight)."""

    interactions: list[Interaction]
    products: dict[str, Product]
    appetences: dict[str, dict[str, float]] = field(default_factory=dict)


def decayed(weight: float, at: datetime, now: datetime, half_life_days: float = HALF_LIFE_DAYS) -> float:
    """`weight` halved for every `half_life_days` between `at` and `now` (never grown: a future date counts as now)."""
    age_days = max((now - at).total_seconds(), 0.0) / 86400.0
    return weight * math.pow(0.5, age_days / half_life_days)


def interaction_weight(kind: str, quantity: float = 1.0) -> float:
    """A purchase of several units counts more, but with diminishing returns (log)."""
    return KIND_WEIGHTS[kind] * (1.0 + math.log1p(max(quantity, 1.0) - 1.0))


def aggregate(
    interactions: Iterable[Interaction], now: datetime, half_life_days: float = HALF_LIFE_DAYS
) -> dict[tuple[str, str], float]:
    """(customer, product) → total decayed weight, only the pairs that stay positive (a product bought then
    returned counts for nothing)."""
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for item in interactions:
        totals[(item.customer_id, item.product_id)] += decayed(
            interaction_weight(item.kind, item.quantity), item.at, now, half_life_days
        )
    return {pair: weight for pair, weight in totals.items() if weight > 1e-9}


def bought(interactions: Iterable[Interaction]) -> dict[str, set[str]]:
    """Customer → products they bought (returned or not: they had them)."""
    out: dict[str, set[str]] = defaultdict(set)
    for item in interactions:
        if item.kind == PURCHASE:
            out[item.customer_id].add(item.product_id)
    return out


def baskets(interactions: Iterable[Interaction]) -> list[set[str]]:
    """The products of each order (purchases without an order id: one basket per customer)."""
    out: dict[str, set[str]] = defaultdict(set)
    for item in interactions:
        if item.kind == PURCHASE:
            out[item.order_id or f"customer:{item.customer_id}"].add(item.product_id)
    return list(out.values())
