"""The hybrid's time-aware parts, computed at training: products co-bought *lately* by the same customers.

Each (customer, product) counts with the weight of its last interaction decayed to the training date (half after
NEIGHBOUR_HALF_LIFE_DAYS), and two products are as near as the cosine of those weighted columns: a pair bought by
the same customers last month weighs more than one bought by them last winter, so the neighbours follow the season
(chosen on the rolling validation folds, declic.recommending.selection; binary histories — every pair of the year
alike — did worse on each fold)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from declic.recommending.interactions import Interaction
from declic.recommending.neighbours import NEIGHBOURS, top_neighbours

NEIGHBOUR_HALF_LIFE_DAYS = 20.0


def last_seen(interactions: Iterable[Interaction], customers: Mapping[str, int],
              items: Mapping[str, int]) -> dict[tuple[int, int], datetime]:
    """(customer row, item row) → when the customer last interacted with the item (known pairs only)."""
    out: dict[tuple[int, int], datetime] = {}
    for item in interactions:
        row, col = customers.get(item.customer_id), items.get(item.product_id)
        if row is None or col is None:
            continue
        if (row, col) not in out or item.at > out[(row, col)]:
            out[(row, col)] = item.at
    return out


def decayed_cosine(seen: Mapping[tuple[int, int], datetime], shape: tuple[int, int], now: datetime,
                   half_life_days: float) -> sp.csr_matrix:
    """items × items cosine of the customers × items matrix whose cells are 0.5 ** (age in days / half-life),
    the diagonal removed."""
    if not seen:
        return sp.csr_matrix((shape[1], shape[1]), dtype=np.float32)
    keys = list(seen)
    ages = np.asarray([max((now - seen[key]).total_seconds(), 0.0) / 86400.0 for key in keys])
    values = np.power(0.5, ages / half_life_days).astype(np.float32)
    matrix = sp.csr_matrix((values, ([k[0] for k in keys], [k[1] for k in keys])), shape=shape, dtype=np.float32)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    scale = sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32))
    co = (matrix.T @ matrix).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    return (scale @ co @ scale).tocsr().astype(np.float32)


def recent_co_purchase(interactions: Iterable[Interaction], customers: Iterable[str], items: Mapping[str, int],
                       now: datetime, half_life_days: float = NEIGHBOUR_HALF_LIFE_DAYS,
                       m: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Each item's `m` nearest items by decayed_cosine over the given customers' histories (index, score)."""
    rows = {customer: row for row, customer in enumerate(sorted(set(customers)))}
    seen = last_seen(interactions, rows, items)
    return top_neighbours(decayed_cosine(seen, (len(rows), len(items)), now, half_life_days), m)
