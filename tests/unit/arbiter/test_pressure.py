"""The cap rule: who takes a slot, and when the slots taken are too many."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.arbiter.domain.decisions import FiringRequest, SuppressReason, Verdict, apply_cap, decide, needs_slot
from services.arbiter.domain.pressure import PressurePolicy, cap_reached

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
POLICY = PressurePolicy(cap=3, window=timedelta(days=7))


def request(transactional: bool = False, contactable: tuple[str, ...] = ("email",)) -> FiringRequest:
    return FiringRequest("f", "welcome", "c", ("email",), frozenset(contactable), transactional)


def test_the_slot_that_would_exceed_the_cap_is_refused() -> None:
    assert [cap_reached(taken, POLICY) for taken in range(5)] == [False, False, False, True, True]
    assert cap_reached(0, PressurePolicy(cap=0))


def test_an_allowed_marketing_message_takes_a_slot_a_transactional_one_does_not() -> None:
    assert needs_slot(decide(request(), POLICY, NOW), request())
    transactional = request(transactional=True)
    assert not needs_slot(decide(transactional, POLICY, NOW), transactional)


def test_a_suppressed_or_held_out_firing_takes_no_slot() -> None:
    no_consent = request(contactable=())
    assert not needs_slot(decide(no_consent, POLICY, NOW), no_consent)
    held_out_policy = PressurePolicy(control_group_percent=100)
    held_out = decide(request(), held_out_policy, NOW)
    assert held_out.verdict is Verdict.CONTROL_GROUP and not needs_slot(held_out, request())


def test_over_the_cap_an_allowed_firing_is_suppressed_and_says_why() -> None:
    allowed = decide(request(), POLICY, NOW)
    assert apply_cap(allowed, 2, POLICY) == allowed
    capped = apply_cap(allowed, 3, POLICY)
    assert (capped.verdict, capped.reason, capped.channel) == (Verdict.SUPPRESS, SuppressReason.CAP_REACHED, "")
    assert capped.explanation == "cap of 3 messages per 7 days reached"
    assert (capped.firing_id, capped.decided_at) == (allowed.firing_id, allowed.decided_at)


@given(st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=30))
def test_firings_counted_one_after_another_allow_exactly_the_cap(cap: int, firings: int) -> None:
    policy = PressurePolicy(cap=cap)
    allowed = decide(request(), policy, NOW)
    verdicts = [apply_cap(allowed, taken, policy).verdict for taken in range(firings)]
    assert verdicts.count(Verdict.ALLOW) == min(cap, firings)
    assert verdicts[: min(cap, firings)] == [Verdict.ALLOW] * min(cap, firings)
