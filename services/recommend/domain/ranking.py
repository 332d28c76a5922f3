"""Ranking rules shared by every model: in stock, not already bought, best score first.

The foundation ranks by popularity (units bought); the LightFM model of the
recommend issue plugs in as another source of scores with the same filters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

POPULARITY_MODEL = "popularity"
"""The version of the model that ranks by units bought (the foundation's only one)."""


@dataclass(frozen=True)
class Suggestion:
    """One recommended product, its score and why it was chosen."""

    product_id: str
    score: float
    reason: str


def rank(
    scores: Mapping[str, float],
    *,
    purchased: Iterable[str] = (),
    out_of_stock: Iterable[str] = (),
    limit: int = 5,
    reason: str = "popular",
) -> list[Suggestion]:
    """The `limit` best-scored products, leaving out what was bought or cannot be sold.

    Ties are broken by product id so that the answer is deterministic.
    """
    excluded = set(purchased) | set(out_of_stock)
    candidates = [(product, score) for product, score in scores.items() if product not in excluded]
    candidates.sort(key=lambda item: (-item[1], item[0]))
    return [Suggestion(product, score, reason) for product, score in candidates[:limit]]
