"""The arbiter's pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from services.arbiter.domain.decisions import (
    FiringRequest,
    SuppressReason,
    Verdict,
    decide,
    in_control_group,
)
from services.arbiter.domain.pressure import PressurePolicy

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
CHANNELS = ["email", "sms", "push", "web", "print", "call_center"]


def request(wanted=("email", "sms"), contactable=("email",), transactional=False) -> FiringRequest:
    return FiringRequest("f", "welcome", "c", tuple(wanted), frozenset(contactable), transactional)


def test_first_wanted_contactable_channel_wins() -> None:
    assert decide(request(contactable=("sms", "email")), PressurePolicy(), NOW).channel == "email"
    assert decide(request(contactable=("sms",)), PressurePolicy(), NOW).channel == "sms"


def test_no_contactable_channel_is_no_consent() -> None:
    decision = decide(request(contactable=()), PressurePolicy(), NOW)
    assert (decision.verdict, decision.reason) == (Verdict.SUPPRESS, SuppressReason.NO_CONSENT)


def test_contactable_elsewhere_is_no_channel() -> None:
    decision = decide(request(wanted=("email",), contactable=("sms",)), PressurePolicy(), NOW)
    assert (decision.verdict, decision.reason) == (Verdict.SUPPRESS, SuppressReason.NO_CHANNEL)


@given(st.text(min_size=1, max_size=12), st.integers(min_value=0, max_value=100))
def test_control_group_assignment_is_stable(customer_id: str, percent: int) -> None:
    assert in_control_group(customer_id, "s", percent) == in_control_group(customer_id, "s", percent)
    if percent == 0:
        assert not in_control_group(customer_id, "s", percent)
    if percent == 100:
        assert in_control_group(customer_id, "s", percent)


@given(
    st.lists(st.sampled_from(CHANNELS), unique=True, max_size=6),
    st.sets(st.sampled_from(CHANNELS)),
)
def test_allowed_channel_is_always_wanted_and_contactable(wanted, contactable) -> None:
    decision = decide(request(wanted, contactable), PressurePolicy(), NOW)
    if decision.verdict is Verdict.ALLOW:
        assert decision.channel in wanted and decision.channel in contactable
    if not set(wanted) & contactable:
        assert decision.verdict is Verdict.SUPPRESS
