"""What the LightFM model must beat, scored over the same users × items index: popularity, item-kNN (cosine
co-occurrence of customers' histories) and implicit's ALS. Their defaults did best on the mean of the four rolling
validation folds (declic.recommending.selection; precision@10): item-kNN with 10/15/20/25/30/40/50 neighbours
0.0970/0.0980/0.0986/**0.0989**/0.0986/0.0970/0.0951; ALS over factors 32-512 × regularization 0.1-100 × alpha
0.05-3 (69 settings), best along alpha ≈ regularization / 100-130: 64/1/1 (the earlier default) 0.0815, 64/10/0.5
0.0902, 128/30/0.25 0.1003, 256/30/0.25 0.1011, **256/20/0.15 0.1018** (512/20/0.15 the same 0.1018)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from declic.recommending.metrics import Scorer
from declic.recommending.neighbours import cosine_similarity


def popularity(bought: sp.csr_matrix) -> Scorer:
    """Distinct buyers per product, the same for everyone."""
    counts = np.asarray((bought > 0).sum(axis=0), dtype=np.float64).ravel()
    return lambda rows: np.tile(counts, (len(rows), 1))


def item_knn(history: sp.csr_matrix, neighbours: int = 25) -> Scorer:
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


def als(weights: sp.csr_matrix, factors: int = 256, regularization: float = 20.0, alpha: float = 0.15,
        iterations: int = 15, seed: int = 7) -> Scorer:
    """implicit's AlternatingLeastSquares on confidence 1 + alpha × weight (CPU, 2 threads)."""
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(1, "blas"):  # implicit's own threads do the work; BLAS's on top of them oversubscribe
        model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                        iterations=iterations, random_state=seed, num_threads=2)
        model.fit(weights.astype(np.float32).tocsr(), show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda rows: users[rows] @ items.T
