"""The served model beside LightFM's score: what the customer's own recent history says, through products co-bought
lately by the same customers (item-to-item cosine of histories decayed with a 20-day half-life,
declic.recommending.recency), and what is selling lately (distinct buyers in the last 14 days).

Weights chosen on the mean of four rolling validation folds before the test cut (declic.recommending.selection;
BENCHMARKS.md, Recommend): co-purchase 0.3-0.7 × trending 0.7-1.6 all gave 0.118-0.121 mean precision@10; 0.55 and
1.3 the best (0.1210, coverage 0.21); the earlier 0.4 / 0.5, chosen on July-August alone, 0.1104 with binary
neighbours."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import numpy as np

from declic.recommending.interactions import PURCHASE, Interaction, aggregate

HISTORY_HALF_LIFE_DAYS = 30.0
"""The co-purchase half of the model weighs the customer's products by how recent they are (half after 30 days)."""
CO_PURCHASE_WEIGHT = 0.55
"""The co-purchase scores' weight beside LightFM's, both standardised over the catalogue."""
TRENDING_DAYS = 14
TRENDING_WEIGHT = 1.3
"""log(1 + distinct buyers in the last 14 days before training), standardised, with this weight."""


def trending(interactions: Iterable[Interaction], index: Mapping[str, int], now: datetime) -> np.ndarray:
    """log(1 + distinct buyers of each item in the TRENDING_DAYS before `now`)."""
    since = now - timedelta(days=TRENDING_DAYS)
    buyers = {(i.customer_id, index[i.product_id]) for i in interactions
              if i.kind == PURCHASE and since <= i.at < now and i.product_id in index}
    counts = np.zeros(len(index), dtype=np.float32)
    np.add.at(counts, np.asarray([row for _, row in buyers], dtype=np.int64), 1.0)
    return np.log1p(counts).astype(np.float32)


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


def blend(model: np.ndarray, history: np.ndarray, weight: float, trend: np.ndarray | None = None,
          trend_weight: float = 0.0) -> np.ndarray:
    """The served score, per row: standardised LightFM score + weight × standardised co-purchase score +
    trend_weight × `trend` (the trending counts already standardised over the same items)."""
    if (weight <= 0 or not np.any(history)) and (trend is None or trend_weight <= 0):
        return model
    out = standardised(model)
    if weight > 0 and np.any(history):
        out += weight * standardised(history)
    if trend is not None and trend_weight > 0:
        out += np.asarray(trend_weight, dtype=out.dtype) * trend
    return out


def history_rows(recent: Mapping[str, float], index: Mapping[str, int], limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The customer's products known to the model (rows below `limit`) and their weights."""
    pairs = [(index[p], w) for p, w in recent.items() if p in index and index[p] < limit and w > 0]
    return (np.asarray([r for r, _ in pairs], dtype=np.int64), np.asarray([w for _, w in pairs], dtype=np.float32))
