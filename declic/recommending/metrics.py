"""Ranking quality: precision@k, recall@k and catalogue coverage, over customers with something to find."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

Scorer = Callable[[np.ndarray], np.ndarray]
"""Row indexes of users → their scores over every item (rows × items)."""


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    coverage: float
    users: int

    def as_dict(self) -> dict[str, float]:
        return {"precision_at_10": self.precision, "recall_at_10": self.recall, "coverage": self.coverage,
                "users": float(self.users)}


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the k best per row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def evaluate(scorer: Scorer, seen: sp.csr_matrix, truth: Mapping[int, set[int]], k: int = 10,
             batch: int = 512) -> Scores:
    """Rank every item for each user of `truth`, leave out what they had (`seen`), compare the top k to `truth`."""
    users = np.asarray(sorted(truth), dtype=np.int64)
    hits = recall = 0.0
    shown: set[int] = set()
    for start in range(0, len(users), batch):
        rows = users[start : start + batch]
        scores = np.asarray(scorer(rows), dtype=np.float64)
        seen_rows = seen[rows].tocoo()
        scores[seen_rows.row, seen_rows.col] = -np.inf
        for user, recommended in zip(rows, top_k(scores, k), strict=True):
            found = len(truth[int(user)] & set(recommended.tolist()))
            hits += found / k
            recall += found / len(truth[int(user)])
            shown.update(recommended.tolist())
    n = max(len(users), 1)
    return Scores(hits / n, recall / n, len(shown) / max(seen.shape[1], 1), len(users))
