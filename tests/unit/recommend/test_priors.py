"""The hybrid's item priors: what sells lately, new arrivals that sell, what sold in the same weeks last year."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from declic.recommending.hybrid import standardised
from declic.recommending.interactions import PURCHASE, VIEW, Interaction
from declic.recommending.priors import item_prior, novelty, seasonal, trending
from declic.recommending.training import TrainingOptions, train
from services.recommend.domain.live import build
from tests.unit.recommend.synthetic import NOW, shop

INDEX = {"a": 0, "b": 1, "c": 2}


def bought(customer: str, product: str, days_ago: float, kind: str = PURCHASE) -> Interaction:
    return Interaction(customer, product, kind, NOW - timedelta(days=days_ago))


def test_trending_counts_distinct_recent_buyers_in_log() -> None:
    index = {"a": 0, "b": 1}
    history = [bought("ann", "a", 1), bought("ann", "a", 2), bought("bob", "a", 3), bought("bob", "b", 30)]
    assert np.allclose(trending(history, index, NOW), [np.log1p(2), 0.0])


def test_novelty_counts_the_recent_buyers_of_products_nobody_bought_before() -> None:
    history = [bought("ann", "a", 10), bought("bob", "a", 20), bought("cat", "a", 30),  # new: first bought 30 days ago
               bought("ann", "b", 5), bought("bob", "b", 100),  # old: bought before the window
               bought("ann", "c", 200, VIEW), bought("dan", "c", 3)]  # a view is no purchase: c is new
    assert np.allclose(novelty(history, INDEX, NOW, days=45), [np.log1p(3), 0.0, np.log1p(1)])


def test_seasonal_counts_the_buyers_of_the_same_weeks_one_year_earlier() -> None:
    history = [bought("ann", "a", 360), bought("bob", "a", 340),  # the 28 days from now, a year (364 days) ago
               bought("ann", "b", 370),  # before that window
               bought("ann", "c", 330), bought("bob", "c", 10)]  # after it, and this year
    assert np.allclose(seasonal(history, INDEX, NOW, days=28), [np.log1p(2), 0.0, 0.0])
    assert not seasonal(history, INDEX, NOW - timedelta(days=300), days=28).any()  # before the data: nothing


def test_item_prior_weighs_each_standardised_part_and_lays_it_over_the_items_asked() -> None:
    first, second = np.asarray([3.0, 1.0, 0.0], dtype=np.float32), np.asarray([0.0, 0.0, 2.0], dtype=np.float32)
    order = np.asarray([2, 0, 1, -1])  # the parts' item 2 first, then 0 and 1, then one they have no figure for
    prior = item_prior([(first, 1.5), (second, 0.5), (np.zeros(0, dtype=np.float32), 2.0)], order)
    assert prior is not None
    expected = 1.5 * standardised(np.asarray([0.0, 3.0, 1.0, 0.0])) + 0.5 * standardised(np.asarray([2.0, 0, 0, 0]))
    assert np.allclose(prior, expected, atol=1e-6)
    assert item_prior([(first, 0.0)], order) is None  # no weight: no prior (LightFM and co-purchase alone)


def test_recommend_adds_the_priors_of_the_model_it_loaded_without_work_per_call() -> None:
    corpus = shop()
    artifact = train(corpus, NOW, TrainingOptions(no_components=4, epochs=2, novelty_weight=0.25))
    live = build("v1", artifact, corpus.products)
    assert live.prior is not None and live.prior.dtype == np.float32
    order = np.arange(len(artifact.item_ids))
    assert np.allclose(live.prior, item_prior(artifact.prior_parts(), order), atol=1e-6)
