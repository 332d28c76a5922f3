"""Bought together, on a hand-made basket set: cosine of co-purchase."""

from __future__ import annotations

import pytest

from declic.recommending.neighbours import co_purchase_neighbours

BASKETS = [{"kibble", "bowl"}, {"kibble", "bowl", "leash"}, {"kibble", "bowl"}, {"litter", "scoop"}, {"kibble"}]
INDEX = {name: i for i, name in enumerate(["kibble", "bowl", "leash", "litter", "scoop"])}


def test_products_bought_together_come_first_by_cosine() -> None:
    neighbours, scores = co_purchase_neighbours(BASKETS, INDEX)
    names = list(INDEX)
    kibble = [(names[i], round(float(s), 3)) for i, s in zip(neighbours[0], scores[0], strict=True) if i >= 0]
    # kibble in 4 baskets, bowl in 3, together 3: 3 / sqrt(12); leash 1 / sqrt(4)
    assert kibble == [("bowl", pytest.approx(0.866, abs=1e-3)), ("leash", 0.5)]
    litter = [names[i] for i in neighbours[INDEX["litter"]] if i >= 0]
    assert litter == ["scoop"]
