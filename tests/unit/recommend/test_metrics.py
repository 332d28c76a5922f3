"""Precision@k, recall@k and coverage on a hand-made case; already-had products never count."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from declic.recommending.metrics import evaluate


def test_precision_recall_and_coverage_leave_out_what_was_had() -> None:
    seen = sp.csr_matrix(np.asarray([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    scores = np.asarray([[9.0, 8.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    truth = {0: {1, 3}, 1: {2, -1}}  # -1: a product unknown at training, a miss for every model
    result = evaluate(lambda rows: scores[rows], seen, truth, k=2)
    # user 0: top 2 without item 0 → {1, 2}: 1 hit; user 1: {3, 2}: 1 hit
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(0.5)
    assert result.coverage == pytest.approx(3 / 4)
