"""Recommend, an experiment not served: implicit ALS's user × item scores as one more part of the hybrid.

The served hybrid (declic.recommending.hybrid, scored by its vectorised twin evaluation.artifact_scorer) plus
`weight` × the standardised ALS score, each customer's ALS vector folded in from their decayed history against the
trained item factors (implicit's recalculate_user: the exact least-squares solve Recommend would run per call).
`python -m benchmarks.recommend_ensemble` chooses on the four rolling validation folds (declic.recommending.selection)
only; `--test` reads the test split once for the settings given (BENCHMARKS.md, Recommend, sixth pass: the result,
and why the part is not served: +1.8 % on the folds, +2.8 % on test, 1.7 ms of CPU more per Recommend at 128 factors).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from declic.recommending import baselines
from declic.recommending.datasets import Split, load_uci, time_split
from declic.recommending.evaluation import artifact_scorer, frame
from declic.recommending.hybrid import standardised
from declic.recommending.metrics import Scorer, evaluate
from declic.recommending.selection import UCI_FOLDS
from declic.recommending.suites import TUNED, UCI_TEST_CUT
from declic.recommending.training import train


def als_part(weights: sp.csr_matrix, factors: int, regularization: float, alpha: float, seed: int = 7) -> Scorer:
    """Standardised ALS scores, the users' vectors solved from their rows of `weights` (not the fitted ones)."""
    from implicit.cpu.als import AlternatingLeastSquares

    matrix = weights.astype(np.float32).tocsr()
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                        iterations=15, random_state=seed, num_threads=2)
        model.fit(matrix, show_progress=False)
    items = np.asarray(model.item_factors)

    def score(rows: np.ndarray) -> np.ndarray:
        with threadpool_limits(1, "blas"):
            users = model.recalculate_user(rows, matrix[rows])
        return standardised((users @ items.T).astype(np.float32))

    return score


def precisions(split: Split, settings: Sequence[tuple[int, float, float]],
               weights: Sequence[float]) -> dict[str, float]:
    """precision@10 of the served hybrid, of tuned ALS and of the hybrid + each ALS setting × weight."""
    options = replace(TUNED, season_days=split.window_days or TUNED.season_days)
    data = frame(split)
    served = artifact_scorer(train(split.train, split.cut, options), data)
    rows = np.asarray(sorted(data.truth), dtype=np.int64)
    base = served(rows)

    def precision(scores: np.ndarray) -> float:
        return evaluate(lambda r: scores[np.searchsorted(rows, r)], data.bought, data.truth).precision

    out = {"served": precision(base),
           "als baseline": evaluate(baselines.als(data.weights), data.bought, data.truth).precision}
    for setting in settings:
        part = als_part(data.weights, *setting)(rows)
        for weight in weights:
            out[f"+ {weight} × ALS {setting}"] = precision(base + weight * part)
    return out


def main() -> None:  # pragma: no cover - a report for people, slow (a LightFM training per fold)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", action="append", default=[],
                        help="ALS factors,regularization,alpha (repeatable; default 128,5,1 and 256,20,0.15)")
    parser.add_argument("--weight", action="append", type=float, default=[], help="default 0.2 and 0.3")
    parser.add_argument("--test", action="store_true", help="read the test split (once, for chosen settings)")
    args = parser.parse_args()
    settings = [(int(f), float(r), float(a)) for f, r, a in (s.split(",") for s in args.setting)] or [
        (128, 5.0, 1.0), (256, 20.0, 0.15)]
    weights = args.weight or [0.2, 0.3]
    corpus = load_uci()
    splits = [time_split(corpus, UCI_TEST_CUT)] if args.test else [time_split(corpus, *f) for f in UCI_FOLDS]
    results = [precisions(split, settings, weights) for split in splits]
    for name in results[0]:
        cells = " ".join(f"{r[name]:.4f}" for r in results)
        print(f"{name:32} {cells}  mean {np.mean([r[name] for r in results]):.4f}")


if __name__ == "__main__":
    main()
