"""The co-purchase half's recency (time-decayed cosine) and model selection on rolling folds."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from declic.recommending.interactions import PURCHASE, RETURN, Interaction
from declic.recommending.recency import decayed_cosine, last_seen, recent_co_purchase
from declic.recommending.selection import evaluate_folds
from declic.recommending.training import TrainingOptions, train
from tests.unit.recommend.synthetic import NOW, shop

INDEX = {"tree": 0, "bauble": 1, "parasol": 2, "tinsel": 3}


def bought(customer: str, product: str, days_ago: float) -> Interaction:
    return Interaction(customer, product, PURCHASE, NOW - timedelta(days=days_ago))


def test_a_pair_co_bought_lately_is_nearer_than_one_co_bought_long_ago() -> None:
    # tree + bauble by two customers last week; tree + parasol by two customers half a year ago
    history = [bought(c, p, 7) for c in ("ann", "bob") for p in ("tree", "bauble")]
    history += [bought(c, "tree", 180) for c in ("cy", "dee")] + [bought(c, "parasol", 180) for c in ("cy", "dee")]
    near, scores = recent_co_purchase(history, ["ann", "bob", "cy", "dee"], INDEX, NOW, half_life_days=30.0, m=3)
    assert near[INDEX["tree"]].tolist()[:2] == [INDEX["bauble"], INDEX["parasol"]]
    assert scores[INDEX["tree"], 0] > 10 * scores[INDEX["tree"], 1] > 0
    assert near[INDEX["tinsel"]].tolist() == [-1, -1, -1]  # nobody bought it: no neighbours


def test_without_decay_it_is_the_plain_cosine_of_histories() -> None:
    seen = {(0, 0): NOW, (0, 1): NOW, (1, 0): NOW}
    similarity = decayed_cosine(seen, (2, 4), NOW, half_life_days=30.0).toarray()
    assert similarity[0, 1] == pytest.approx(1 / np.sqrt(2))
    assert similarity[0, 0] == 0.0 and similarity[2].sum() == 0.0


def test_last_seen_keeps_the_latest_interaction_of_known_pairs() -> None:
    history = [bought("ann", "tree", 10), bought("ann", "tree", 3), bought("zed", "tree", 1),
               bought("ann", "unknown", 1)]
    assert last_seen(history, {"ann": 0}, INDEX) == {(0, 0): NOW - timedelta(days=3)}


def test_training_keeps_the_options_number_of_neighbours_and_ignores_returns() -> None:
    corpus = shop()
    corpus.interactions.append(Interaction("cat-person-0", "dog-1", RETURN, NOW - timedelta(days=1)))
    artifact = train(corpus, NOW, TrainingOptions(no_components=4, epochs=2, history_neighbours=3))
    assert artifact.history_neighbours.shape == (len(artifact.item_ids), 3)
    items = artifact.item_ids.tolist()
    cats = {items[n] for row in artifact.history_neighbours[[items.index("cat-0")]] for n in row if n >= 0}
    assert cats and all(name.startswith("cat-") for name in cats)  # a return does not make a neighbour
    binary = train(corpus, NOW, TrainingOptions(no_components=4, epochs=2, neighbour_half_life_days=0))
    assert not np.allclose(binary.history_neighbour_scores, train(corpus, NOW, TrainingOptions(
        no_components=4, epochs=2)).history_neighbour_scores)


def test_folds_are_scored_each_and_averaged() -> None:
    corpus = shop(customers=24)
    folds = ((NOW - timedelta(days=30), NOW - timedelta(days=15)), (NOW - timedelta(days=20), NOW))
    result = evaluate_folds(corpus, TrainingOptions(no_components=4, epochs=3), only=("lightfm", "popularity"),
                            folds=folds)
    assert len(result.reports) == 2
    assert result.mean("popularity") == pytest.approx(
        sum(r.scores["popularity"].precision for r in result.reports) / 2)
    assert result.mean_best_baseline() == ("popularity", result.mean("popularity"))
