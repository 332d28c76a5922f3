"""Co-occurrence cosine between products: what is bought together (and the item-kNN baseline)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import scipy.sparse as sp

NEIGHBOURS = 20


def incidence(groups: Iterable[Iterable[str]], index: Mapping[str, int]) -> sp.csr_matrix:
    """Binary groups × items matrix (a group: a basket, or a customer's history); unknown items are left out."""
    rows, cols = [], []
    for row, group in enumerate(groups):
        for item in {index[item] for item in group if item in index}:
            rows.append(row)
            cols.append(item)
    shape = (max(rows, default=-1) + 1, len(index))
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)


def cosine_similarity(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """items × items: co-occurrences / sqrt(occurrences_i × occurrences_j), the diagonal removed."""
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    norms = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1e-12)), 0.0).astype(np.float32)
    co = (matrix.T @ matrix).tocsr().astype(np.float32)
    co.setdiag(0)
    co.eliminate_zeros()
    scale = sp.diags(norms)
    return (scale @ co @ scale).tocsr()


def top_neighbours(similarity: sp.csr_matrix, m: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Each item's `m` most similar items (index, score), best first, -1/0 padded."""
    n = similarity.shape[0]
    indexes = np.full((n, m), -1, dtype=np.int32)
    scores = np.zeros((n, m), dtype=np.float32)
    for row in range(n):
        start, end = similarity.indptr[row], similarity.indptr[row + 1]
        cols, values = similarity.indices[start:end], similarity.data[start:end]
        order = np.lexsort((cols, -values))[:m]
        indexes[row, : len(order)] = cols[order]
        scores[row, : len(order)] = values[order]
    return indexes, scores


def co_purchase_neighbours(baskets: Iterable[Iterable[str]], index: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    return top_neighbours(cosine_similarity(incidence(baskets, index)))
