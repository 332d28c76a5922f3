"""What the LightFM model must beat, scored over the same users × items index: popularity, item-kNN (cosine
co-occurrence of customers' histories) and implicit's ALS. Their defaults did best on the UCI validation split
(train before 2011-07-01, validate July-August): item-kNN with 5/10/20/30/50/100/200/all neighbours gave
0.088/0.099/0.104/0.103/0.100/0.091/0.088/0.098 precision@10; ALS with 32/64/128 factors × alpha 1/10/40 ×
regularization 0.05/1, best 0.087 at 64, 1, 1."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from declic.recommending.metrics import Scorer
from declic.recommending.neighbours import cosine_similarity


def popularity(bought: sp.csr_matrix) -> Scorer:
    """Distinct buyers per product, the same for everyone."""
    counts = np.asarray((bought > 0).sum(axis=0), dtype=np.float64).ravel()
    return lambda rows: np.tile(counts, (len(rows), 1))


def item_knn(history: sp.csr_matrix, neighbours: int = 20) -> Scorer:
    """Sum of the cosine similarity of each product to what the customer had, keeping each product's best
    `neighbours` (0: all)."""
    similarity = cosine_similarity((history > 0).astype(np.float32).tocsr())
    if neighbours:
        similarity = _keep_top(similarity, neighbours)
    binary = (history > 0).astype(np.float32).tocsr()
    return lambda rows: np.asarray((binary[rows] @ similarity).todense())


def _keep_top(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    rows, cols, values = [], [], []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        best = np.argsort(-matrix.data[start:end])[:n]
        rows.extend([row] * len(best))
        cols.extend(matrix.indices[start:end][best])
        values.extend(matrix.data[start:end][best])
    return sp.csr_matrix((values, (rows, cols)), shape=matrix.shape, dtype=np.float32)


def als(weights: sp.csr_matrix, factors: int = 64, regularization: float = 1.0, alpha: float = 1.0,
        iterations: int = 15, seed: int = 7) -> Scorer:
    """implicit's AlternatingLeastSquares on confidence 1 + alpha × weight (CPU, 2 threads)."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                    iterations=iterations, random_state=seed, num_threads=2)
    model.fit(weights.astype(np.float32).tocsr(), show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda rows: users[rows] @ items.T
