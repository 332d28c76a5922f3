"""Appetence signals: what a purchase, a view or a cart addition of a product says a person is drawn to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from services.profile.storage.bulk import Signal


def signals_of(category: str, product: Any | None, attribute_names: Sequence[str]) -> list[tuple[str, str]]:
    """(dimension, value) pairs a product or category feeds: its category and configured attributes."""
    signals = []
    category = category or (product.category if product is not None else "")
    if category:
        signals.append(("category", category))
    if product is not None:
        attributes = json.loads(product.attributes)
        signals.extend((key, attributes[key]) for key in attribute_names if attributes.get(key))
    return signals


def appetence_signals(customer_id: str, found: Sequence[tuple[str, str]], weight: float, at_ts: int) -> list[Signal]:
    """One signal per distinct (dimension, value), as stored (values cut to the column's width)."""
    return [((customer_id, dimension, value), weight, at_ts)
            for dimension, value in dict.fromkeys((dimension, value[:200]) for dimension, value in found)]
