"""The evaluation runs `declic recommend evaluate` and the benchmark make: which data, which split, which
LightFM settings (chosen on a validation split, never on the test split)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from declic.recommending.datasets import load_otto, load_uci, session_split, time_split
from declic.recommending.evaluation import Report, ServedScorer, run
from declic.recommending.training import TrainingOptions

UCI_TEST_CUT = datetime(2011, 9, 1, tzinfo=UTC)
"""Test split: train on 2010-12-01 … 2011-08-31, test on what the same customers bought from 2011-09-01 on."""
UCI_VALIDATION = (datetime(2011, 7, 1, tzinfo=UTC), UCI_TEST_CUT)
"""Tuning split: train before 2011-07-01, validate on July-August; the test months are never looked at."""
TUNED = TrainingOptions()
"""What the service trains too: TrainingOptions' defaults are the settings chosen on validation data only (LightFM's
on July-August, BENCHMARKS.md, Recommend, lists what was tried; the hybrid's co-purchase recency and weights on the
rolling folds of declic.recommending.selection), one training thread (reproducible)."""


def evaluate_dataset(name: str, cut: datetime | None = UCI_TEST_CUT, epochs: int = 0,
                     on_epoch: Callable[[int, int], None] | None = None,
                     options: TrainingOptions = TUNED, served: ServedScorer | None = None) -> tuple[Report, str]:
    """One run over `name` ("uci" or "otto"): the report and a title saying which split; `served`: score the
    hybrid through Recommend's own code (evaluation.run)."""
    options = replace(options, epochs=epochs) if epochs else options
    if name == "otto":
        split = session_split(load_otto())
        title = "OTTO sample (20 sessions): views and carts → orders"
        return run(split, replace(options, item_features=False, user_features=False), on_epoch=on_epoch,
                   served=served), title
    if cut is None:  # the validation split, where settings are chosen
        split = time_split(load_uci(), *UCI_VALIDATION)
        return (run(split, options, on_epoch=on_epoch, served=served),
                "UCI Online Retail validation: before 2011-07-01 → July-August")
    split = time_split(load_uci(), cut)
    title = f"UCI Online Retail: train before {cut:%Y-%m-%d}, test = new products the same customers bought after"
    return run(split, options, on_epoch=on_epoch, served=served), title
