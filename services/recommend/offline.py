"""Recommend's own scoring, run offline over a time split: what the benchmark scores is the model as Recommend
serves it — the live model built from the artifact (domain.live.build), each customer built from what they did
before the cut as a Recommend builds them from the store (domain.customers.customer_of) and scored by
domain.customers.scores — not a copy of that code. The candidates are the evaluation's, the same for every model:
everything but what the customer already bought (declic.recommending.metrics.evaluate)."""

from __future__ import annotations

import numpy as np

from declic.recommending.artifact import ModelArtifact
from declic.recommending.datasets import Split
from declic.recommending.evaluation import Frame
from declic.recommending.interactions import Interaction
from declic.recommending.metrics import Scorer
from services.recommend.domain.customers import customer_of, scores
from services.recommend.domain.live import build


def served_scorer(artifact: ModelArtifact, split: Split, data: Frame) -> Scorer:
    """The frame's users × items scores as Recommend computes them at the split's cut (items Recommend does not
    know: -inf)."""
    live = build("offline", artifact, split.train.products)
    by_row = sorted(data.items, key=data.items.__getitem__)
    shelf_rows = np.asarray([live.shelf.index.get(item, -1) for item in by_row], dtype=np.int64)
    users = sorted(data.users, key=data.users.__getitem__)
    histories: dict[str, list[Interaction]] = {}
    for item in split.train.interactions:
        histories.setdefault(item.customer_id, []).append(item)

    def score(rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), len(by_row)), dtype=np.float64)
        for n, row in enumerate(rows.tolist()):
            user = users[row]
            customer = customer_of([user], histories.get(user, ()), split.train.appetences.get(user, {}), split.cut)
            values, _ = scores(live, customer)
            out[n] = np.where(shelf_rows >= 0, values[shelf_rows.clip(0)], -np.inf)
        return out

    return score
