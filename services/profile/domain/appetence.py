"""Appetences: how much a person is drawn to a category or attribute value, fading with time.

A signal of weight w at time t is worth w · 2^(−(now − t) / half-life).
The stored score is the sum of every signal's worth at an anchor instant
(the latest signal); adding a signal, early or late, keeps that sum exact,
so the arrival order does not change the result.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

DAY_SECONDS = 86_400
Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Appetence:
    dimension: str  # "category" or a product attribute ("animal", "style", ...)
    value: str
    score: float  # decayed weight now
    share: float  # score / sum of scores in the same dimension


def decay(score: float, from_ts: int, to_ts: int, half_life_days: float) -> float:
    """`score` as of `from_ts`, seen from `to_ts` (grows back when looking into the past)."""
    return score * 2.0 ** (-(to_ts - from_ts) / (half_life_days * DAY_SECONDS))


def add_signal(score: float, anchor_ts: int, weight: float, signal_ts: int, half_life_days: float) -> tuple[float, int]:
    """(score, anchor) after adding a signal: the anchor moves to the latest instant seen."""
    if signal_ts > anchor_ts:
        return decay(score, anchor_ts, signal_ts, half_life_days) + weight, signal_ts
    return score + decay(weight, signal_ts, anchor_ts, half_life_days), anchor_ts


def fold_signals(stored: Mapping[Key, tuple[float, int]], signals: Iterable[tuple[Key, float, int]],
                 half_life_days: float) -> dict[Key, tuple[float, int]]:
    """The (score, anchor) of every key that receives a signal — (key, weight, signal_ts) — after adding the
    signals in the given order to the `stored` sums; a key without a stored sum starts with its first signal."""
    result: dict[Key, tuple[float, int]] = {}
    for key, weight, signal_ts in signals:
        current = result.get(key) or stored.get(key)
        result[key] = (weight, signal_ts) if current is None else add_signal(*current, weight, signal_ts,
                                                                             half_life_days)
    return result


def combine(a: tuple[float, int], b: tuple[float, int], half_life_days: float) -> tuple[float, int]:
    """Two (score, anchor) sums of disjoint signals as one (used when two profiles merge)."""
    (score_a, anchor_a), (score_b, anchor_b) = a, b
    anchor = max(anchor_a, anchor_b)
    return decay(score_a, anchor_a, anchor, half_life_days) + decay(score_b, anchor_b, anchor, half_life_days), anchor


def rank(scores: list[tuple[str, str, float]]) -> list[Appetence]:
    """Appetences with their share within their dimension, strongest first."""
    totals: dict[str, float] = {}
    for dimension, _, score in scores:
        totals[dimension] = totals.get(dimension, 0.0) + score
    ranked = [
        Appetence(dimension, value, score, score / totals[dimension] if totals[dimension] else 0.0)
        for dimension, value, score in scores
    ]
    return sorted(ranked, key=lambda a: (a.dimension != "category", a.dimension, -a.score, a.value))
