"""Model selection on rolling-origin validation folds, all before the test cut (2011-09-01): settings are chosen on
the mean of the folds, never on the test split.

One two-month window (the old validation split, July-August) let a choice fit that window; four origins, a month
apart, each validated on what followed (two months, or the one left before the test cut), keep only what helps
across the spring and the summer. `python -m declic.recommending.selection` runs the served design and the
baselines over the folds and prints each fold and the mean."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from declic.recommending.datasets import time_split
from declic.recommending.evaluation import BASELINES, Report, run
from declic.recommending.interactions import Corpus
from declic.recommending.training import TrainingOptions


def _day(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


UCI_FOLDS: tuple[tuple[datetime, datetime], ...] = (
    (_day(2011, 5), _day(2011, 7)),
    (_day(2011, 6), _day(2011, 8)),
    (_day(2011, 7), _day(2011, 9)),
    (_day(2011, 8), _day(2011, 9)),
)
"""(train before, validate until): May-June, June-July, July-August, August; none reaches the test months."""


@dataclass
class FoldReports:
    folds: Sequence[tuple[datetime, datetime]]
    reports: list[Report]

    def mean(self, name: str) -> float:
        """Mean precision@10 of one model over the folds."""
        return sum(r.scores[name].precision for r in self.reports) / len(self.reports)

    def mean_best_baseline(self) -> tuple[str, float]:
        """The baseline with the best mean precision@10 over the folds, and that mean."""
        names = [n for n in BASELINES if all(n in r.scores for r in self.reports)]
        best = max(names, key=self.mean)
        return best, self.mean(best)


def evaluate_folds(corpus: Corpus, options: TrainingOptions, only: tuple[str, ...] = (),
                   folds: Sequence[tuple[datetime, datetime]] = UCI_FOLDS) -> FoldReports:
    """The served hybrid (and the baselines, or only those named) trained and scored on each fold."""
    return FoldReports(folds, [run(time_split(corpus, cut, end), options, only=only) for cut, end in folds])


def main() -> None:  # pragma: no cover - a report for people, slow (a LightFM training per fold)
    from rich.console import Console
    from rich.table import Table

    from declic.recommending.datasets import load_uci
    from declic.recommending.suites import TUNED

    console = Console()
    result = evaluate_folds(load_uci(), TUNED)
    table = Table(title="UCI Online Retail, rolling validation folds (precision@10 / recall@10 / coverage)")
    table.add_column("model")
    for cut, end in result.folds:
        table.add_column(f"{cut:%m-%d} → {end:%m-%d}")
    table.add_column("mean p@10")
    for name in result.reports[0].scores:
        cells = [f"{r.scores[name].precision:.4f} / {r.scores[name].recall:.4f} / {r.scores[name].coverage:.3f}"
                 for r in result.reports]
        table.add_row(name, *cells, f"{result.mean(name):.4f}")
    console.print(table)
    best, mean = result.mean_best_baseline()
    console.print(f"served hybrid mean precision@10 / best baseline's ({best}) = "
                  f"{result.mean('lightfm') / mean:.3f} on the validation folds")


if __name__ == "__main__":
    main()
