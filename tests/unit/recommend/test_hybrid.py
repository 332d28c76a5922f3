"""The served hybrid: LightFM + co-purchase of the customer's recent history + what sells lately, and the proof
that what Recommend serves is what the evaluation scores."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import numpy as np

from declic.recommending.artifact import ModelArtifact
from declic.recommending.datasets import Split
from declic.recommending.evaluation import artifact_scorer, frame
from declic.recommending.hybrid import blend, co_purchase, recent_weights, standardised
from declic.recommending.interactions import PURCHASE, Interaction, aggregate
from declic.recommending.training import TrainingOptions, train
from services.recommend.domain.customers import Customer, scores
from services.recommend.domain.live import build
from services.recommend.offline import served_scorer
from tests.unit.recommend.synthetic import NOW, shop

OPTIONS = TrainingOptions(no_components=8, epochs=10)


def test_co_purchase_sums_the_neighbours_of_each_product_by_its_weight() -> None:
    neighbours = np.asarray([[1, 2], [0, -1], [0, 1]], dtype=np.int32)
    similarity = np.asarray([[0.5, 0.25], [0.5, 0.0], [0.25, 0.75]], dtype=np.float32)
    out = co_purchase(neighbours, similarity, np.asarray([0, 2]), np.asarray([2.0, 1.0], dtype=np.float32), 4)
    assert out.tolist() == [0.25, 1.0 + 0.75, 0.5, 0.0]


def test_blend_standardises_each_part_and_leaves_lightfm_alone_without_them() -> None:
    model = np.asarray([1.0, 2.0, 3.0, 4.0])
    assert blend(model, np.zeros(4), 0.4) is model
    history = np.asarray([0.0, 0.0, 0.0, 8.0])
    prior = 0.5 * standardised(np.asarray([4.0, 0.0, 0.0, 0.0]))
    mixed = blend(model, history, 0.4, prior)
    assert np.allclose(mixed, standardised(model) + 0.4 * standardised(history) + prior)
    assert np.argsort(-mixed)[0] == 3


def test_what_recommend_serves_is_what_the_evaluation_scores() -> None:
    corpus = shop()
    last_year = NOW - timedelta(days=360)  # the same weeks one year earlier: the seasonal prior counts them
    corpus.interactions += [Interaction(f"dog-person-{n}", "dog-7", PURCHASE, last_year, 1.0, f"old-{n}")
                            for n in (1, 3)]
    options = replace(OPTIONS, seasonal_weight=1.0)  # off as served (priors): on here, so that its path is held
    artifact = ModelArtifact.from_bytes(train(corpus, NOW, options).to_bytes())
    assert float(artifact.co_purchase_weight) > 0 and float(artifact.trending_weight) > 0
    assert artifact.seasonal.any() and artifact.novelty.any() and float(artifact.seasonal_weight) > 0
    customer = "cat-person-0"
    data = frame(Split(corpus, {customer: {"cat-7"}}, NOW))
    evaluated = artifact_scorer(artifact, data)(np.asarray([data.users[customer]]))[0]
    live = build("v1", artifact, corpus.products)
    mine = [i for i in corpus.interactions if i.customer_id == customer]
    served, reason = scores(live, Customer(
        [customer], {p: w for (_, p), w in aggregate(mine, NOW).items()}, {"cats": 3.0}, 5,
        {p: w for (_, p), w in recent_weights(mine, NOW).items()}))
    assert reason == "for_you"
    assert list(live.shelf.ids) == sorted(data.items, key=data.items.__getitem__)
    assert np.allclose(served, evaluated, atol=1e-4)
    offline = served_scorer(artifact, Split(corpus, {customer: {"cat-7"}}, NOW), data)
    assert np.allclose(offline(np.asarray([data.users[customer]]))[0], evaluated, atol=1e-4)  # the benchmark's row
    alone = artifact_scorer(artifact, data, hybrid=False)(np.asarray([data.users[customer]]))[0]
    assert not np.allclose(standardised(alone), evaluated, atol=1e-3)  # the hybrid's parts do count


def test_training_on_one_thread_is_reproducible() -> None:
    corpus = shop()
    first, second = train(corpus, NOW, OPTIONS), train(corpus, NOW, OPTIONS)
    assert np.array_equal(first.item_vectors, second.item_vectors)


def test_a_model_stored_before_the_hybrid_loads_and_answers_as_lightfm_alone() -> None:
    corpus = shop()
    artifact = train(corpus, NOW, OPTIONS)
    older = {name: value for name, value in vars(artifact).items()
             if name not in ("history_neighbours", "history_neighbour_scores", "co_purchase_weight", "trending",
                             "trending_weight", "novelty", "novelty_weight", "seasonal", "seasonal_weight")}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **older)
    loaded = ModelArtifact.from_bytes(buffer.getvalue())
    live = build("old", loaded, corpus.products)
    recent = {"cat-1": 1.0}
    served, _ = scores(live, Customer(["cat-person-0"], recent, {}, 5, recent))
    assert np.array_equal(served, live.vectors @ loaded.user_vectors[live.user_index["cat-person-0"]])
