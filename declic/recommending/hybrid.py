"""The served model beside LightFM's score: what the customer's own recent history says, through products co-bought
lately by the same customers (item-to-item cosine of histories decayed with a 20-day half-life,
declic.recommending.recency), and the item priors (declic.recommending.priors: what sells lately, new arrivals that
sell, what sold in the same weeks last year).

Weights chosen on the mean of four rolling validation folds before the test cut (declic.recommending.selection;
BENCHMARKS.md, Recommend): co-purchase 0.3-0.7 × trending 0.7-1.6 all gave 0.118-0.121 mean precision@10; 0.55 and
1.3 the best (0.1210, coverage 0.21); the earlier 0.4 / 0.5, chosen on July-August alone, 0.1104 with binary
neighbours. With the novelty prior (fourth pass) co-purchase 0.45 / 0.55 / 0.7 gave 0.1286 / 0.1286 / 0.1261 and the
neighbours' half-life 10 / 20 / 40 days 0.1259 / 0.1286 / 0.1275 (40 neighbours: 0.1281): kept."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np

from declic.recommending.interactions import Interaction, aggregate

HISTORY_HALF_LIFE_DAYS = 60.0
"""The co-purchase half of the model weighs the customer's products by how recent they are (half after 60 days; on
the four folds, with the novelty prior: 15 / 30 / 60 / 90 / 120 days 0.1265 / 0.1286 / **0.1296** / 0.1293 /
0.1293 mean precision@10)."""
CO_PURCHASE_WEIGHT = 0.55
"""The co-purchase scores' weight beside LightFM's, both standardised over the catalogue."""


def recent_weights(interactions: Iterable[Interaction], now: datetime) -> dict[tuple[str, str], float]:
    """(customer, product) → log(1 + decayed weight), decayed with the history half-life."""
    return {pair: math.log1p(weight) for pair, weight in aggregate(interactions, now, HISTORY_HALF_LIFE_DAYS).items()}


def co_purchase(neighbours: np.ndarray, similarity: np.ndarray, rows: np.ndarray, weights: np.ndarray,
                size: int) -> np.ndarray:
    """Σ over the customer's products (rows, weights) of their neighbours' similarity: a vector of `size`."""
    out = np.zeros(size, dtype=np.float32)
    if len(rows) == 0 or neighbours.shape[0] == 0:
        return out
    near, sims = neighbours[rows], similarity[rows] * weights[:, None]
    keep = near >= 0
    np.add.at(out, near[keep], sims[keep])
    return out


def standardised(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """(x - mean) / std along `axis` (a constant row stays 0); one vector (a Recommend) in two BLAS passes."""
    if values.ndim == 1:
        mean = float(values.mean())
        spread = max(float(np.dot(values, values)) / max(len(values), 1) - mean * mean, 0.0) ** 0.5
        out = values - np.asarray(mean, dtype=values.dtype)
        if spread > 1e-12:
            out *= np.asarray(1.0 / spread, dtype=values.dtype)
        return out
    mean = values.mean(axis=axis, keepdims=True)
    std = values.std(axis=axis, keepdims=True)
    return (values - mean) / np.where(std > 0, std, 1.0)


def blend(model: np.ndarray, history: np.ndarray, weight: float, prior: np.ndarray | None = None) -> np.ndarray:
    """The served score, per row: standardised LightFM score + weight × standardised co-purchase score + `prior`
    (the item priors, already standardised and weighted over the same items: priors.item_prior)."""
    if (weight <= 0 or not np.any(history)) and prior is None:
        return model
    out = standardised(model)
    if weight > 0 and np.any(history):
        out += weight * standardised(history)
    if prior is not None:
        out += prior
    return out


def history_rows(recent: Mapping[str, float], index: Mapping[str, int], limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The customer's products known to the model (rows below `limit`) and their weights."""
    pairs = [(index[p], w) for p, w in recent.items() if p in index and index[p] < limit and w > 0]
    return (np.asarray([r for r, _ in pairs], dtype=np.int64), np.asarray([w for _, w in pairs], dtype=np.float32))
