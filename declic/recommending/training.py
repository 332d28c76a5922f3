"""Training the LightFM hybrid (WARP): interactions weighted and decayed, item and user features."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from lightfm import LightFM
from lightfm.data import Dataset

from declic.recommending.artifact import FLOAT, ModelArtifact
from declic.recommending.features import item_features, user_features
from declic.recommending.hybrid import CO_PURCHASE_WEIGHT
from declic.recommending.interactions import KIND_WEIGHTS, PURCHASE, Corpus, aggregate, baskets
from declic.recommending.neighbours import (
    NEIGHBOURS,
    co_purchase_neighbours,
    cosine_similarity,
    incidence,
    top_neighbours,
)
from declic.recommending.priors import (
    NOVELTY_DAYS,
    NOVELTY_WEIGHT,
    SEASON_DAYS,
    SEASONAL_WEIGHT,
    TRENDING_WEIGHT,
    novelty,
    seasonal,
    trending,
)
from declic.recommending.recency import NEIGHBOUR_HALF_LIFE_DAYS, recent_co_purchase


@dataclass(frozen=True)
class TrainingOptions:
    no_components: int = 64
    epochs: int = 30
    loss: str = "warp"
    learning_rate: float = 0.05
    learning_schedule: str = "adagrad"
    item_alpha: float = 0.0
    user_alpha: float = 0.0
    max_sampled: int = 50
    item_features: bool = True
    description_tokens: bool = True
    bigrams: bool = False
    feature_weight: float = 0.3  # of each item feature, against 1 for the product's own identity feature
    user_features: bool = True
    history_features: bool = False  # a customer is also described by the products they had ("had:<id>")
    basket_users: bool = False  # each order also trains as a customer of its own (co-purchase signal)
    neighbour_features: int = 0  # a product is also described by its n most co-bought products ("near:<id>")
    taste_tokens: int = 0  # … and by the n item features (words, categories) weighing most in their history
    weighting: str = "log"  # "log", "binary" or "raw" sample weights
    half_life_days: float = 120.0
    co_purchase_weight: float = CO_PURCHASE_WEIGHT  # of the hybrid's co-purchase part (0: LightFM alone)
    history_neighbours: int = NEIGHBOURS  # each product's nearest products kept for the co-purchase part
    neighbour_half_life_days: float = NEIGHBOUR_HALF_LIFE_DAYS  # their co-purchases decayed (0: binary, all alike)
    trending_weight: float = TRENDING_WEIGHT  # of the hybrid's trending part
    novelty_days: float = NOVELTY_DAYS  # new arrivals: first bought within these days (priors.novelty)
    novelty_weight: float = NOVELTY_WEIGHT
    season_days: float = SEASON_DAYS  # the weeks ahead the seasonal prior looks at, one year earlier
    seasonal_weight: float = SEASONAL_WEIGHT  # 0: no validation fold can show it (priors)
    seed: int = 7
    threads: int = 1  # one thread with a fixed seed: the same data gives the same model (two: Hogwild, ±0.004)


def _sample_weight(weight: float, weighting: str) -> float:
    if weighting == "binary":
        return 1.0
    if weighting == "log":
        return float(1.0 + np.log1p(weight))
    return weight


def train(
    corpus: Corpus, now: datetime, options: TrainingOptions = TrainingOptions(),
    on_epoch: Callable[[int, int], None] | None = None,
) -> ModelArtifact:
    """Fit LightFM on the corpus as of `now`; `on_epoch(done, total)` after each epoch (progress bars)."""
    pairs = aggregate(corpus.interactions, now, options.half_life_days)
    if options.basket_users:
        for number, basket in enumerate(baskets(corpus.interactions)):
            pairs.update({(f"basket:{number}", product): KIND_WEIGHTS[PURCHASE] for product in basket})
    users = sorted({customer for customer, _ in pairs} | set(corpus.appetences))
    items = sorted({product for _, product in pairs} | set(corpus.products))
    purchases: dict[str, int] = {}
    for item in corpus.interactions:
        if item.kind == PURCHASE:
            purchases[item.customer_id] = purchases.get(item.customer_id, 0) + 1
    item_tokens = {
        product: item_features(corpus.products[product], options.description_tokens, options.bigrams)
        if options.item_features and product in corpus.products else []
        for product in items
    }
    item_index = {item: i for i, item in enumerate(items)}
    neighbours, neighbour_scores = co_purchase_neighbours(baskets(corpus.interactions), item_index)
    if options.neighbour_features:
        for product, row in item_index.items():
            item_tokens[product] = item_tokens[product] + [
                f"near:{items[n]}" for n in neighbours[row, : options.neighbour_features] if n >= 0]
    history: dict[str, list[str]] = {}
    if options.history_features:
        for customer, product in pairs:
            history.setdefault(customer, []).append(f"had:{product}")
    if options.taste_tokens:
        for user, tokens in _tastes(pairs, item_tokens, options.taste_tokens).items():
            history.setdefault(user, []).extend(tokens)
    user_tokens = {
        user: (user_features(corpus.appetences.get(user, {}), purchases.get(user, 0)) if options.user_features
               else []) + history.get(user, [])
        for user in users
    }
    dataset = Dataset()
    # sorted: a set's order changes with each process's string hashing, and with it the model
    dataset.fit(users, items, user_features=sorted({t for ts in user_tokens.values() for t in ts}),
                item_features=sorted({t for ts in item_tokens.values() for t in ts}))
    interactions, weights = dataset.build_interactions(
        (user, item, _sample_weight(weight, options.weighting)) for (user, item), weight in pairs.items()
    )
    item_matrix = dataset.build_item_features(
        (item, {token: options.feature_weight for token in tokens}) for item, tokens in item_tokens.items())
    user_matrix = dataset.build_user_features(user_tokens.items())
    model = LightFM(no_components=options.no_components, loss=options.loss, learning_rate=options.learning_rate,
                    learning_schedule=options.learning_schedule, item_alpha=options.item_alpha,
                    user_alpha=options.user_alpha, max_sampled=options.max_sampled, random_state=options.seed)
    for epoch in range(options.epochs):
        model.fit_partial(interactions, user_features=user_matrix, item_features=item_matrix,
                          sample_weight=weights, epochs=1, num_threads=options.threads)
        if on_epoch:
            on_epoch(epoch + 1, options.epochs)
    artifact = _artifact(model, dataset, user_matrix, item_matrix, users, items, interactions,
                         (neighbours, neighbour_scores))
    artifact.history_neighbours, artifact.history_neighbour_scores = _history_neighbours(corpus, pairs, item_index,
                                                                                        now, options)
    artifact.co_purchase_weight = np.asarray(options.co_purchase_weight, dtype=FLOAT)
    artifact.trending = trending(corpus.interactions, item_index, now)
    artifact.trending_weight = np.asarray(options.trending_weight, dtype=FLOAT)
    artifact.novelty = novelty(corpus.interactions, item_index, now, options.novelty_days)
    artifact.novelty_weight = np.asarray(options.novelty_weight, dtype=FLOAT)
    artifact.seasonal = seasonal(corpus.interactions, item_index, now, options.season_days)
    artifact.seasonal_weight = np.asarray(options.seasonal_weight, dtype=FLOAT)
    return artifact


def _history_neighbours(corpus: Corpus, pairs: dict[tuple[str, str], float], item_index: dict[str, int],
                        now: datetime, options: TrainingOptions) -> tuple[np.ndarray, np.ndarray]:
    """The co-purchase half's neighbours: cosine over the customers' histories (the pairs still positive), each
    pair decayed by the age of its last interaction (recency), or binary when neighbour_half_life_days is 0."""
    customers = {customer for customer, _ in pairs if not customer.startswith("basket:")}
    if options.neighbour_half_life_days > 0:
        kept = [item for item in corpus.interactions if KIND_WEIGHTS[item.kind] > 0
                and (item.customer_id, item.product_id) in pairs and item.customer_id in customers]
        return recent_co_purchase(kept, customers, item_index, now, options.neighbour_half_life_days,
                                  options.history_neighbours)
    histories: dict[str, set[str]] = {}
    for customer, product in pairs:
        if customer in customers:
            histories.setdefault(customer, set()).add(product)
    return top_neighbours(cosine_similarity(incidence(histories.values(), item_index)), options.history_neighbours)


def _tastes(pairs: dict[tuple[str, str], float], item_tokens: dict[str, list[str]], n: int) -> dict[str, list[str]]:
    """Each customer's n strongest item features over what they did (by decayed weight), as "taste:<feature>"."""
    totals: dict[str, dict[str, float]] = {}
    for (user, item), weight in pairs.items():
        mine = totals.setdefault(user, {})
        for token in item_tokens.get(item, ()):
            if not token.startswith("price:"):
                mine[token] = mine.get(token, 0.0) + weight
    return {user: [f"taste:{token}" for token, _ in sorted(tokens.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
            for user, tokens in totals.items()}


def _artifact(model, dataset, user_matrix, item_matrix, users, items, interactions, near) -> ModelArtifact:
    _, user_feature_map, _, item_feature_map = dataset.mapping()
    user_bias, user_embeddings = model.get_user_representations(user_matrix)
    item_bias, item_embeddings = model.get_item_representations(item_matrix)
    user_names = [name for name in user_feature_map if name.startswith(("likes:", "lifecycle:", "had:", "taste:"))]
    known = set(items)
    item_names = [name for name in item_feature_map if name not in known and not name.startswith("near:")]
    user_rows = [user_feature_map[name] for name in user_names]
    item_rows = [item_feature_map[name] for name in item_names]
    real = [row for row, user in enumerate(users) if not user.startswith("basket:")]  # orders as users: dropped
    users, user_embeddings = [users[row] for row in real], user_embeddings[real]
    n_users = len(users)
    neighbours, scores = near
    buyers = np.asarray((interactions.tocsr()[real] > 0).sum(axis=0)).ravel().astype(FLOAT)
    return ModelArtifact(
        user_ids=np.asarray(users, dtype=str),
        user_vectors=np.hstack([user_embeddings, np.ones((n_users, 1))]).astype(FLOAT),
        item_ids=np.asarray(items, dtype=str),
        item_vectors=np.hstack([item_embeddings, item_bias[:, None]]).astype(FLOAT),
        user_feature_names=np.asarray(user_names, dtype=str),
        user_feature_vectors=np.hstack([model.user_embeddings[user_rows], np.zeros((len(user_rows), 1))]).astype(FLOAT),
        item_feature_names=np.asarray(item_names, dtype=str),
        item_feature_vectors=np.hstack(
            [model.item_embeddings[item_rows], model.item_biases[item_rows][:, None]]).astype(FLOAT),
        popularity=buyers,
        neighbours=neighbours,
        neighbour_scores=scores,
    )
