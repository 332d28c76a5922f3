"""Who the model thinks a customer is: their trained vector, else one folded in from what they did, else one
from their appetences and lifecycle, else nothing (popularity, within their categories when known)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from declic.recommending.artifact import FLOAT, features_vector
from declic.recommending.features import user_features
from services.recommend.domain.live import LiveModel

APPETENCE_BOOST = 1e6
"""Added to the popularity of products in the customer's categories: they come first, by popularity."""


@dataclass(frozen=True)
class Customer:
    """What the store knows: ids the model may know them by (theirs, then those merged into them), the decayed
    weight of each product they interacted with, their appetences and how many purchases they made."""

    ids: Sequence[str]
    history: Mapping[str, float]
    appetences: Mapping[str, float]
    purchases: int

    @property
    def known(self) -> bool:
        """Erased or never seen: nothing stored, so the model's old vector for them is not used either."""
        return bool(self.history or self.appetences)


def scores(live: LiveModel, customer: Customer) -> tuple[np.ndarray, str]:
    """A score for every product of the shelf, and the reason given with the suggestions."""
    vector, reason = _vector(live, customer)
    if vector is not None:
        return live.vectors @ vector, reason
    popular = live.popularity.astype(np.float64)
    boosted = [live.shelf.category_rows[c] for c in customer.appetences if c in live.shelf.category_rows]
    if boosted:
        popular = popular.copy()
        popular[np.unique(np.concatenate(boosted))] += APPETENCE_BOOST
        return popular, "appetence"
    return popular, "popular"


def _vector(live: LiveModel, customer: Customer) -> tuple[np.ndarray | None, str]:
    if not customer.known:
        return None, ""
    rows = [live.user_index[i] for i in customer.ids if i in live.user_index]
    if rows:
        return live.artifact.user_vectors[rows].mean(axis=0), "for_you"
    items = [(live.shelf.index[p], w) for p, w in customer.history.items() if p in live.shelf.index and w > 0]
    if items:
        weights = np.asarray([w for _, w in items], dtype=FLOAT)
        folded = (live.vectors[[r for r, _ in items], :-1] * weights[:, None]).sum(axis=0) / weights.sum()
        return np.append(folded, 1.0).astype(FLOAT), "history"
    names = user_features(customer.appetences, customer.purchases)
    vector = features_vector(names, live.user_feature_index, live.artifact.user_feature_vectors)
    if vector is not None and customer.appetences:
        vector = vector.copy()
        vector[-1] = 1.0
        return vector, "appetence"
    return None, ""
