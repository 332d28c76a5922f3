"""Which scored products may be suggested, and in what order: the request's filters over numpy arrays, so a
50,000-product catalogue is filtered in a few vector operations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Filters:
    include_out_of_stock: bool = False
    categories: frozenset[str] = frozenset()
    min_price: float | None = None
    max_price: float | None = None
    max_per_category: int = 0
    exclude: frozenset[str] = frozenset()
    bought: frozenset[str] = frozenset()
    """Products the customer bought: left out unless the product is a replenishment one."""


@dataclass(frozen=True)
class Shelf:
    """Candidate products and what the filters read about them, aligned by row."""

    ids: Sequence[str]
    index: dict[str, int]
    in_stock: np.ndarray  # bool
    price: np.ndarray  # float, NaN unknown
    replenishment: np.ndarray  # bool
    category: Sequence[str]  # the first category ("" none): diversity counts by it
    category_rows: dict[str, np.ndarray] = field(default_factory=dict)  # category (any level) → rows


def allowed(shelf: Shelf, filters: Filters) -> np.ndarray:
    """Boolean mask of the rows the filters let through."""
    mask = np.ones(len(shelf.ids), dtype=bool)
    if not filters.include_out_of_stock:
        mask &= shelf.in_stock
    if filters.categories:
        in_categories = np.zeros_like(mask)
        for category in filters.categories:
            rows = shelf.category_rows.get(category)
            if rows is not None:
                in_categories[rows] = True
        mask &= in_categories
    with np.errstate(invalid="ignore"):
        if filters.min_price is not None:
            mask &= shelf.price >= filters.min_price
        if filters.max_price is not None:
            mask &= shelf.price <= filters.max_price
    for product in filters.exclude:
        if (row := shelf.index.get(product)) is not None:
            mask[row] = False
    for product in filters.bought:
        if (row := shelf.index.get(product)) is not None and not shelf.replenishment[row]:
            mask[row] = False
    return mask


def pick(scores: np.ndarray, shelf: Shelf, filters: Filters, k: int) -> list[tuple[int, float]]:
    """The k best allowed rows (row, score), best first, ties by product id, at most `max_per_category` of a
    category."""
    mask = allowed(shelf, filters) & np.isfinite(scores)
    masked = np.where(mask, scores, -np.inf)
    available = int(np.count_nonzero(mask))
    want = min(available, k if not filters.max_per_category else k * 8)
    while True:
        rows = _best(masked, want)
        chosen = _diverse(rows, masked, shelf, filters.max_per_category, k)
        if len(chosen) >= k or want >= available:
            return chosen
        want = min(available, want * 4)


def _best(masked: np.ndarray, want: int) -> np.ndarray:
    """The `want` best rows, best first."""
    if want <= 0:
        return np.empty(0, dtype=np.int64)
    if want >= len(masked):
        part = np.arange(len(masked))
    else:
        guessed = _above_sampled_threshold(masked, want)
        part = guessed if guessed is not None else np.argpartition(masked, len(masked) - want)[-want:]
    return part[np.argsort(-masked[part], kind="stable")][:want]


SAMPLE_STRIDE = 16
"""A threshold guessed on one row in 16 spares partitioning 50,000 scores (0.03 ms against 0.5 ms)."""


def _above_sampled_threshold(masked: np.ndarray, want: int) -> np.ndarray | None:
    """The rows scoring at least a threshold guessed on a sample (about 4 × `want` of them); exact, since when at
    least `want` rows reach it the `want` best are among them. None when the guess keeps too few or too many."""
    sample = masked[::SAMPLE_STRIDE]
    rank = 4 * want // SAMPLE_STRIDE + 1
    if len(sample) < 64 or rank >= len(sample):
        return None
    threshold = np.partition(sample, len(sample) - rank)[len(sample) - rank]
    rows = np.flatnonzero(masked >= threshold)
    return rows if want <= len(rows) <= len(masked) // 4 else None


def _diverse(rows: np.ndarray, masked: np.ndarray, shelf: Shelf, cap: int, k: int) -> list[tuple[int, float]]:
    values = masked[rows].tolist()
    ordered = list(zip(rows.tolist(), values, strict=True))  # best first (_best)
    if len(set(values)) < len(values):  # ties, by product id (a sort of the 80 candidates costs 40 us)
        ordered.sort(key=lambda pair: (-pair[1], shelf.ids[pair[0]]))
    chosen: list[tuple[int, float]] = []
    per_category: dict[str, int] = {}
    for row, value in ordered:
        if value == -np.inf:
            break
        category = shelf.category[row]
        if cap and category and per_category.get(category, 0) >= cap:
            continue
        per_category[category] = per_category.get(category, 0) + 1
        chosen.append((row, value))
        if len(chosen) == k:
            break
    return chosen
