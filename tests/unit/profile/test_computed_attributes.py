"""RFM, interval, lifecycle, appetence decay and contact updates on hand-computed cases,
and their order independence (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.profile.domain.appetence import add_signal, combine, decay, rank
from services.profile.domain.commands import UpdateContact
from services.profile.domain.computed import effective_timezone, infer_timezone, preferred_channel
from services.profile.domain.contact import apply_contact_update, birth_month_day
from services.profile.domain.contactability import Contactability
from services.profile.domain.lifecycle import LifecycleStage, least_cents_reaching, lifecycle_stage
from services.profile.domain.orders import DAY_SECONDS, OrderStats, to_epoch
from services.profile.domain.rfm import compute_rfm
from services.profile.domain.rules import LifecycleRules, RfmRules
from services.profile.domain.segments import days_ago_window
from services.profile.domain.zones import birthdays_today

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def stats(order_days_ago: list[int], value: float = 100.0, discounted: int = 0) -> OrderStats:
    times = sorted(to_epoch(NOW - d * DAY) for d in order_days_ago)
    return OrderStats(len(times), times[0] if times else None, times[-1] if times else None,
                      round(value * 100), discounted, "EUR")


def test_interval_and_next_expected_order() -> None:
    s = stats([100, 70, 40, 10])
    assert s.average_interval_days == pytest.approx(30)
    assert s.next_order_expected_at == NOW - 10 * DAY + 30 * DAY
    assert stats([5]).average_interval_days is None and stats([5]).next_order_expected_at is None
    assert stats([10, 20], discounted=1).promo_sensitivity == 0.5
    assert OrderStats().promo_sensitivity == 0.0


@pytest.mark.parametrize(("days", "orders", "value", "scores"), [
    (10, 1, 50.0, (5, 1, 1)),
    (30, 2, 100.0, (5, 2, 1)),   # bounds are inclusive for recency, strict for frequency and monetary
    (31, 3, 100.01, (4, 3, 2)),
    (200, 5, 600.0, (2, 4, 4)),
    (400, 9, 5000.0, (1, 5, 5)),
])
def test_rfm_scores_on_the_bounds(days: int, orders: int, value: float, scores: tuple[int, int, int]) -> None:
    rfm = compute_rfm(days, orders, round(value * 100), RfmRules())
    assert (rfm.recency_score, rfm.frequency_score, rfm.monetary_score) == scores
    assert rfm.code == "".join(map(str, scores))


def test_no_order_no_score() -> None:
    rfm = compute_rfm(None, 0, 0, RfmRules())
    assert (rfm.recency_score, rfm.frequency_score, rfm.monetary_score, rfm.code) == (0, 0, 0, "")


@pytest.mark.parametrize(("order_days_ago", "value", "stage"), [
    ([], 0, LifecycleStage.PROSPECT),
    ([400], 50, LifecycleStage.LAPSED),
    ([130, 200], 50, LifecycleStage.AT_RISK),          # > 120 days
    ([70, 100, 130], 300, LifecycleStage.AT_RISK),     # 70 > 2 × 30-day interval
    ([20, 25, 30], 300, LifecycleStage.NEW_CUSTOMER),  # 20 > 2 × 5 days but not > 30 days minimum
    ([5, 30, 60, 90, 120], 600, LifecycleStage.LOYAL),
    ([5, 30, 60, 90, 120], 400, LifecycleStage.ACTIVE),  # not enough value for loyal, first order > 90 days
    ([10], 20, LifecycleStage.NEW_CUSTOMER),
])
def test_lifecycle_stages(order_days_ago: list[int], value: float, stage: LifecycleStage) -> None:
    got, why = lifecycle_stage(stats(order_days_ago, value), NOW, LifecycleRules())
    assert got is stage, why
    assert why


def test_lifecycle_rules_are_configurable() -> None:
    strict = LifecycleRules(loyal_min_orders=2, loyal_min_value_units=10)
    assert lifecycle_stage(stats([10, 20], 20), NOW, strict)[0] is LifecycleStage.LOYAL


signals = st.lists(st.tuples(st.floats(0.1, 10), st.integers(0, 200 * DAY_SECONDS)), min_size=1, max_size=12)


def _fold(items: list[tuple[float, int]]) -> tuple[float, int]:
    score, anchor = 0.0, 0
    for weight, at in items:
        score, anchor = add_signal(score, anchor, weight, at, 30.0)
    return score, anchor


@given(signals, st.randoms())
def test_appetence_does_not_depend_on_arrival_order(items: list[tuple[float, int]], rnd) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    (a, anchor_a), (b, anchor_b) = _fold(items), _fold(shuffled)
    now = 300 * DAY_SECONDS
    assert decay(a, anchor_a, now, 30.0) == pytest.approx(decay(b, anchor_b, now, 30.0), rel=1e-9)
    exact = sum(w * 2 ** (-(now - t) / (30 * DAY_SECONDS)) for w, t in items)
    assert decay(a, anchor_a, now, 30.0) == pytest.approx(exact, rel=1e-9)


@given(signals, signals)
def test_combining_two_profiles_equals_one_profile_with_all_signals(left, right) -> None:
    now = 300 * DAY_SECONDS
    merged = combine(_fold(left), _fold(right), 30.0)
    together = _fold(left + right)
    assert decay(*merged, now, 30.0) == pytest.approx(decay(*together, now, 30.0), rel=1e-9)


def test_rank_gives_shares_per_dimension_strongest_first() -> None:
    ranked = rank([("category", "dogs", 1.0), ("category", "cats", 3.0), ("style", "denim", 2.0)])
    assert [(a.value, a.share) for a in ranked] == [("cats", 0.75), ("dogs", 0.25), ("denim", 1.0)]


updates = st.lists(st.tuples(st.sampled_from(["Ann", "Anna", ""]), st.sampled_from(["Paris", "Lyon"]),
                             st.integers(0, 50)), min_size=1, max_size=6, unique_by=lambda u: u[2])


@given(updates, st.randoms())
def test_contact_updates_keep_the_newest_value_whatever_the_order(items, rnd) -> None:
    def fold(sequence):
        attributes, times, names = {}, {}, {}
        for name, city, day in sequence:
            change = apply_contact_update(attributes, times, UpdateContact(first_name=name, attributes={"city": city}),
                                          NOW + day * DAY)
            attributes, times = change.attributes, change.field_times
            names.update(change.fields)
        return attributes, names.get("first_name", "")

    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert fold(items) == fold(shuffled)
    newest_named = max((u for u in items if u[0]), key=lambda u: u[2], default=None)
    assert fold(items)[1] == (newest_named[0] if newest_named else "")


@pytest.mark.parametrize(("value", "expected"), [("1990-03-02", (3, 2)), ("0000-02-29", (2, 29)),
                                                 ("1990-02-30", None), ("1990-13-01", None), ("garbage", None)])
def test_birth_month_day(value: str, expected) -> None:
    assert birth_month_day(value) == expected


def test_birthday_dates_per_zone_and_leap_day() -> None:
    dates = birthdays_today(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    assert "Europe/Paris" in dates[(3, 3)] and "America/New_York" in dates[(3, 2)]
    assert "Asia/Tokyo" in dates[(3, 3)]
    assert "Europe/Paris" in birthdays_today(datetime(2027, 2, 28, 12, tzinfo=UTC))[(2, 29)]
    leap_year = birthdays_today(datetime(2028, 2, 28, 12, tzinfo=UTC))  # the 29th exists: wait for it
    assert "Europe/Paris" not in leap_year[(2, 29)] and "Pacific/Auckland" in leap_year[(2, 29)]


def test_days_ago_window_is_24_hours_ending_n_days_before() -> None:
    assert days_ago_window(NOW, 14) == (NOW - 15 * DAY, NOW - 14 * DAY)


def test_timezone_and_preferred_channel_explain_themselves() -> None:
    assert effective_timezone("Asia/Tokyo", "Europe/Paris", "UTC")[0] == "Asia/Tokyo"
    assert infer_timezone([("email", "a@x.io"), ("phone", "+33612345678")]) == "Europe/Paris"
    assert infer_timezone([("phone", "+12125550123")]) == "America/New_York"
    assert effective_timezone("", infer_timezone([]), "UTC") == (
        "UTC", "default zone (no zone given, no phone number with a single zone)")
    reachable = [Contactability("email", True, "a@x.io", ""), Contactability("sms", False, "", "no consent")]
    assert preferred_channel({"sms": {"clicked": 9}}, reachable)[0] == "email"  # sms not contactable
    assert preferred_channel({}, [])[0] == ""


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_the_loyalty_threshold_in_cents_gives_the_verdict_of_the_python_rule(units) -> None:
    cents = least_cents_reaching(units)
    assert cents / 100 >= units and (cents - 1) / 100 < units
