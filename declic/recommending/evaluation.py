"""One evaluation run: LightFM and the baselines trained on the same split, scored on the same customers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from declic.recommending import baselines
from declic.recommending.artifact import ModelArtifact
from declic.recommending.datasets import Split
from declic.recommending.hybrid import blend, recent_weights
from declic.recommending.interactions import PURCHASE, aggregate
from declic.recommending.metrics import Scorer, Scores, evaluate
from declic.recommending.priors import item_prior
from declic.recommending.training import TrainingOptions, train

BASELINES = ("popularity", "item_knn", "als")
"""Beside "lightfm" (the served hybrid: LightFM + co-purchase of the customer's recent history) and
"lightfm_alone" (its LightFM half)."""


@dataclass
class Frame:
    """The split as matrices over one users × items index (the train period's customers and products)."""

    users: dict[str, int]
    items: dict[str, int]
    bought: sp.csr_matrix
    weights: sp.csr_matrix
    truth: dict[int, set[int]]
    recent: sp.csr_matrix  # the hybrid's history weights (hybrid.recent_weights)


@dataclass
class Report:
    scores: dict[str, Scores] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def best_baseline(self) -> tuple[str, Scores]:
        name = max((n for n in self.scores if n in BASELINES), key=lambda n: self.scores[n].precision)
        return name, self.scores[name]


def frame(split: Split) -> Frame:
    pairs = aggregate(split.train.interactions, split.cut)
    users = {u: i for i, u in enumerate(sorted({c for c, _ in pairs} | set(split.train.appetences)))}
    items = {p: i for i, p in enumerate(sorted({p for _, p in pairs} | set(split.train.products)))}
    shape = (len(users), len(items))
    rows, cols = zip(*((users[c], items[p]) for c, p in pairs), strict=True) if pairs else ((), ())
    weights = sp.csr_matrix((list(pairs.values()), (rows, cols)), shape=shape, dtype=np.float32)
    had = {(users[i.customer_id], items[i.product_id]) for i in split.train.interactions
           if i.kind == PURCHASE and i.customer_id in users and i.product_id in items}
    b_rows, b_cols = zip(*had, strict=True) if had else ((), ())
    bought = sp.csr_matrix((np.ones(len(had), dtype=np.float32), (b_rows, b_cols)), shape=shape)
    truth: dict[int, set[int]] = {}
    for customer, products in split.test.items():
        if customer in users and products:
            # a product unknown at training counts as one to find that no model can: a distinct negative index
            truth[users[customer]] = {items.get(p, -1 - n) for n, p in enumerate(sorted(products))}
    recent = {(c, p): w for (c, p), w in recent_weights(split.train.interactions, split.cut).items()
              if c in users and p in items}
    r_rows, r_cols = zip(*((users[c], items[p]) for c, p in recent), strict=True) if recent else ((), ())
    recent_matrix = sp.csr_matrix((list(recent.values()), (r_rows, r_cols)), shape=shape, dtype=np.float32)
    return Frame(users, items, bought, weights, truth, recent_matrix)


def artifact_scorer(artifact: ModelArtifact, data: Frame, hybrid: bool = True) -> Scorer:
    """The model's scores laid out on the frame's index (users or items it does not know score 0): as served,
    LightFM blended with the co-purchase of the customer's recent history and the item priors
    (declic.recommending.hybrid; hybrid=False: LightFM alone). A vectorised twin of Recommend's scoring, for the
    guard and the validation folds (a unit test holds them equal); the benchmark scores through Recommend's own
    code (`served`)."""
    item_order = np.full(len(data.items), -1)
    for position, item in enumerate(artifact.item_ids.tolist()):
        if item in data.items:
            item_order[data.items[item]] = position
    user_position = {user: position for position, user in enumerate(artifact.user_ids.tolist())}
    by_row = sorted(data.users, key=lambda user: data.users[user])
    user_order = np.asarray([user_position.get(user, -1) for user in by_row])
    items = np.where(item_order[:, None] >= 0, artifact.item_vectors[item_order], 0.0)

    def score(rows: np.ndarray) -> np.ndarray:
        positions = user_order[rows]
        vectors = np.where(positions[:, None] >= 0, artifact.user_vectors[positions], 0.0)
        model = vectors @ items.T
        if not hybrid:
            return model
        return blend(model, np.asarray((data.recent[rows] @ near).todense()), float(artifact.co_purchase_weight),
                     prior)

    near = _neighbour_matrix(artifact, item_order) if hybrid else None
    prior = item_prior(artifact.prior_parts(), item_order) if hybrid else None
    return score


def _neighbour_matrix(artifact: ModelArtifact, item_order: np.ndarray) -> sp.csr_matrix:
    """frame items × frame items: the artifact's history neighbours (hybrid.co_purchase, as a matrix)."""
    size = len(item_order)
    frame_of = np.full(len(artifact.item_ids), -1)
    frame_of[item_order[item_order >= 0]] = np.flatnonzero(item_order >= 0)
    near, sims = artifact.history_neighbours, artifact.history_neighbour_scores
    if near.size == 0:
        return sp.csr_matrix((size, size), dtype=np.float32)
    rows = np.repeat(frame_of[: near.shape[0]], near.shape[1])
    cols = np.where(near.ravel() >= 0, frame_of[near.ravel().clip(0)], -1)
    keep = (rows >= 0) & (cols >= 0)
    return sp.csr_matrix((sims.ravel()[keep], (rows[keep], cols[keep])), shape=(size, size), dtype=np.float32)


ServedScorer = Callable[[ModelArtifact, Split, Frame], Scorer]
"""A trained model → its scores as Recommend serves them (services.recommend.offline.served_scorer)."""


def run(split: Split, options: TrainingOptions | None = None, only: tuple[str, ...] = (),
        on_epoch: Callable[[int, int], None] | None = None, k: int = 10, served: ServedScorer | None = None) -> Report:
    """Scores of LightFM and of each baseline (or only those named). The "lightfm" row is scored by `served` when
    given (Recommend's own code), else by artifact_scorer (its vectorised twin). The seasonal prior looks at the
    weeks the split asks about, one year earlier (priors.seasonal)."""
    options = replace(options or TrainingOptions(), season_days=split.window_days or TrainingOptions.season_days)
    data = frame(split)
    report = Report()
    trained: list[ModelArtifact] = []  # trained once, scored as served (hybrid) and alone

    def lightfm(hybrid: bool) -> Scorer:
        if not trained:
            trained.append(train(split.train, split.cut, options, on_epoch))
        if hybrid and served is not None:
            return served(trained[0], split, data)
        return artifact_scorer(trained[0], data, hybrid)

    makers: dict[str, Callable[[], Scorer]] = {
        "lightfm": lambda: lightfm(True),
        "lightfm_alone": lambda: lightfm(False),
        # by buyers; where nothing was bought before (OTTO sessions), by customers who interacted
        "popularity": lambda: baselines.popularity(data.bought if data.bought.nnz else data.weights),
        "item_knn": lambda: baselines.item_knn(data.weights),
        "als": lambda: baselines.als(data.weights),
    }
    for name, make in makers.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        scorer = make()
        report.seconds[name] = time.perf_counter() - started
        report.scores[name] = evaluate(scorer, data.bought, data.truth, k)
    return report
