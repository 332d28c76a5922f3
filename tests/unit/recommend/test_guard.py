"""The guard: no model that scores worse than the current one or than popularity on the held-out split."""

from __future__ import annotations

from services.recommend.domain.guard import judge


def test_a_model_below_popularity_is_refused_and_says_so() -> None:
    verdict = judge(0.02, 0.05, None, None)
    assert not verdict.publish
    assert "popularity" in verdict.reason and "0.0200" in verdict.reason


def test_a_model_below_the_current_one_is_refused_naming_it() -> None:
    verdict = judge(0.08, 0.05, (0.07, 0.09), "m1")
    assert not verdict.publish
    assert "m1" in verdict.reason and "never saw" in verdict.reason


def test_a_model_as_good_as_both_is_published() -> None:
    assert judge(0.09, 0.05, (0.09, 0.09), "m1").publish
    assert judge(0.06, 0.05, None, "m1").publish  # too few purchases the current model never saw: not compared
