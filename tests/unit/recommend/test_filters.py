"""The request's filters over a shelf: stock, already bought, categories, price, exclusions, diversity."""

from __future__ import annotations

import numpy as np

from declic.recommending.interactions import Product
from services.recommend.domain.filters import Filters, pick
from services.recommend.domain.live import build_shelf

CATALOGUE = {
    "a": Product("a", categories=("food",), price=10.0, replenishment=True),
    "b": Product("b", categories=("food",), price=20.0),
    "c": Product("c", categories=("food",), price=30.0),
    "d": Product("d", categories=("toys",), price=5.0, in_stock=False),
    "e": Product("e", categories=("toys",), price=8.0),
    "f": Product("f", categories=("beds",)),
}
SHELF = build_shelf(list(CATALOGUE), CATALOGUE)
SCORES = np.asarray([9.0, 8.0, 7.0, 6.5, 6.0, 5.0])


def chosen(filters: Filters, k: int = 6) -> list[str]:
    return [SHELF.ids[row] for row, _ in pick(SCORES, SHELF, filters, k)]


def test_never_out_of_stock_unless_asked() -> None:
    assert "d" not in chosen(Filters())
    assert "d" in chosen(Filters(include_out_of_stock=True))


def test_never_already_bought_unless_a_replenishment_product() -> None:
    assert chosen(Filters(bought=frozenset({"a", "b"}))) == ["a", "c", "e", "f"]


def test_at_most_n_per_category_for_diversity() -> None:
    assert chosen(Filters(max_per_category=1), k=3) == ["a", "e", "f"]
    assert chosen(Filters(max_per_category=2), k=4) == ["a", "b", "e", "f"]


def test_categories_price_range_and_exclusions() -> None:
    assert chosen(Filters(categories=frozenset({"food", "beds"}))) == ["a", "b", "c", "f"]
    assert chosen(Filters(min_price=8.0, max_price=20.0)) == ["a", "b", "e"]  # unknown price: out of any range
    assert chosen(Filters(exclude=frozenset({"a", "c"})), k=2) == ["b", "e"]


def test_ties_are_broken_by_product_id_and_minus_infinity_is_never_chosen() -> None:
    shelf = build_shelf(["z", "y", "x"], {})
    assert [shelf.ids[r] for r, _ in pick(np.asarray([1.0, 1.0, -np.inf]), shelf, Filters(), 3)] == ["y", "z"]


def test_on_a_large_shelf_the_sampled_threshold_picks_what_a_full_sort_picks() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    catalogue = {f"p{i:05d}": Product(f"p{i:05d}", categories=(f"c{i % 7}",), in_stock=bool(rng.random() > 0.1))
                 for i in range(n)}
    shelf = build_shelf(list(catalogue), catalogue)
    for scores in (rng.normal(size=n), np.round(rng.normal(size=n), 1)):  # the second full of ties
        for filters in (Filters(), Filters(max_per_category=2), Filters(categories=frozenset({"c3"}))):
            expected = _full_sort(scores, shelf, filters, 10)
            assert [row for row, _ in pick(scores, shelf, filters, 10)] == expected


def _full_sort(scores: np.ndarray, shelf, filters: Filters, k: int) -> list[int]:  # noqa: ANN001
    rows = [r for r in range(len(shelf.ids)) if shelf.in_stock[r]
            and (not filters.categories or shelf.category[r] in filters.categories)]
    rows.sort(key=lambda r: (-scores[r], shelf.ids[r]))
    out: list[int] = []
    per: dict[str, int] = {}
    for row in rows:
        if filters.max_per_category and per.get(shelf.category[row], 0) >= filters.max_per_category:
            continue
        per[shelf.category[row]] = per.get(shelf.category[row], 0) + 1
        out.append(row)
        if len(out) == k:
            return out
    return out
