"""The LightFM hybrid on a tiny shop: learns the tribes, serves cold starts from features, ships as arrays."""

from __future__ import annotations

import numpy as np

from declic.recommending.artifact import ModelArtifact
from declic.recommending.training import TrainingOptions, train
from services.recommend.domain.customers import Customer, scores
from services.recommend.domain.filters import Filters, pick
from services.recommend.domain.live import build
from tests.unit.recommend.synthetic import NOW, product, shop

OPTIONS = TrainingOptions(no_components=8, epochs=15, threads=1, trending_weight=0.5)
"""What LightFM learns (tribes, features): the tiny shop's 14-day trending is a handful of buyers of either tribe, so
the served weight (1.3, chosen on the UCI year) would let it outrank taste here."""


def top(live, customer: Customer, k: int = 5) -> list[str]:
    values, _ = scores(live, customer)
    return [live.shelf.ids[row] for row, _ in pick(values, live.shelf, Filters(), k)]


def test_a_known_customer_gets_their_tribe_and_the_model_survives_a_round_trip() -> None:
    corpus = shop()
    artifact = ModelArtifact.from_bytes(train(corpus, NOW, OPTIONS).to_bytes())
    live = build("v1", artifact, corpus.products)
    suggested = top(live, Customer(["cat-person-0"], {"cat-0": 1.0}, {"cats": 1.0}, 5))
    assert all(product_id.startswith("cat-") for product_id in suggested)


def test_a_new_customer_is_served_from_their_appetences() -> None:
    corpus = shop()
    live = build("v1", train(corpus, NOW, OPTIONS), corpus.products)
    values, reason = scores(live, Customer(["stranger"], {}, {"dogs": 1.0}, 0))
    chosen = [live.shelf.ids[row] for row, _ in pick(values, live.shelf, Filters(), 5)]
    assert reason == "appetence"
    assert all(product_id.startswith("dog-") for product_id in chosen)


def test_a_new_product_is_recommendable_from_its_features_before_anyone_bought_it() -> None:
    corpus = shop()
    artifact = train(corpus, NOW, OPTIONS)
    newcomer = product("cat", 99)
    live = build("v1", artifact, {**corpus.products, newcomer.product_id: newcomer})
    row = live.shelf.index["cat-99"]
    assert row >= len(artifact.item_ids)  # not in the model: a vector from its features
    values, _ = scores(live, Customer(["cat-person-0"], {"cat-0": 1.0}, {"cats": 1.0}, 5))
    dog_rows = [live.shelf.index[p] for p in live.shelf.ids if p.startswith("dog-")]
    assert values[row] > np.max(values[dog_rows])


def test_an_unknown_customer_without_appetences_gets_the_popular_products() -> None:
    corpus = shop()
    live = build("v1", train(corpus, NOW, OPTIONS), corpus.products)
    values, reason = scores(live, Customer(["nobody"], {}, {}, 0))
    assert reason == "popular"
    assert np.array_equal(values, live.popularity)
