"""What the counters' answer makes of a firing: held, allowed, displaced, blocked — and the loser's fate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.arbiter.domain.arbitration import Attempt, Reservation, next_step
from services.arbiter.domain.decisions import FiringRequest, SlotState, SuppressReason, Verdict
from services.arbiter.domain.policy import Cap, Policy, PriorityRules, ScenarioRules, Window
from services.arbiter.domain.pressure import limits_for
from services.arbiter.domain.screening import PersonFacts, Plan, screen

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
WEEK = Cap(name="week", limit=2, window=Window(rolling=timedelta(days=7)))


def plan(loser: str = "drop", **policy: object) -> tuple[Plan, Policy]:
    rules = Policy(caps=(WEEK,), min_gap=timedelta(hours=4), scenarios={"s": ScenarioRules(loser=loser)},
                   **policy)  # type: ignore[arg-type]
    firing = FiringRequest("f", "s", "c", ("email", "sms"), frozenset({"email", "sms"}), cause_event_id="e1")
    screened = screen(firing, PersonFacts(), rules, NOW)
    assert isinstance(screened, Plan)
    return screened, rules


def attempt(plan_: Plan, policy: Policy, channel: str, reservation: Reservation) -> Attempt:
    return Attempt(channel, limits_for(policy, channel, plan_.category, "e1", NOW, plan_.zone), reservation)


def test_the_first_step_is_the_first_channel_and_a_new_slot_is_allowed_or_held() -> None:
    firing, policy = plan()
    assert next_step(firing, [], policy, NOW) == "email"
    allowed = next_step(firing, [attempt(firing, policy, "email", Reservation(
        "ok", SlotState.RESERVED, "email", NOW, counts=(1, 0, 0)))], policy, NOW)
    assert (allowed.verdict, allowed.channel, allowed.slot) == (Verdict.ALLOW, "email", SlotState.RESERVED)
    assert [r.rule for r in allowed.rules][-3:] == ["cap:week", "min_gap", "one_per_event"]
    held = next_step(firing, [attempt(firing, policy, "email", Reservation(
        "ok", SlotState.HELD, "email", NOW, NOW + timedelta(minutes=2), counts=(0, 0, 0)))], policy, NOW)
    assert (held.verdict, held.reason, held.defer_until) == (Verdict.DEFER, SuppressReason.PRIORITY_HOLD,
                                                             NOW + timedelta(minutes=2))


@pytest.mark.parametrize(("loser", "verdict", "reason"), [
    ("drop", Verdict.SUPPRESS, SuppressReason.CAP_REACHED),
    ("defer", Verdict.DEFER, SuppressReason.CAP_REACHED),
])
def test_a_full_cap_drops_or_defers_until_the_oldest_send_leaves(loser, verdict, reason) -> None:
    firing, policy = plan(loser)
    blocked = Reservation("blocked", counts=(2,), blocked_at=0, freeing_entry=NOW - timedelta(days=2))
    decision = next_step(firing, [attempt(firing, policy, "email", blocked)], policy, NOW)
    assert (decision.verdict, decision.reason) == (verdict, reason)
    if verdict is Verdict.DEFER:
        assert decision.defer_until == NOW + timedelta(days=5)


def test_downgrade_tries_the_next_channel_then_drops() -> None:
    firing, policy = plan("downgrade")
    blocked = Reservation("blocked", counts=(2,), blocked_at=0, freeing_entry=NOW)
    first = attempt(firing, policy, "email", blocked)
    assert next_step(firing, [first], policy, NOW) == "sms"
    second = attempt(firing, policy, "sms", blocked)
    assert next_step(firing, [first, second], policy, NOW).reason is SuppressReason.CAP_REACHED


def test_a_displaced_firing_is_dropped_or_tried_once_more() -> None:
    firing, policy = plan("drop")
    displaced = Reservation("displaced", winner="vip")
    dropped = next_step(firing, [attempt(firing, policy, "email", displaced)], policy, NOW)
    assert (dropped.reason, dropped.displaced_by) == (SuppressReason.HIGHER_PRIORITY, "vip")
    firing, policy = plan("defer")
    assert next_step(firing, [attempt(firing, policy, "email", displaced)], policy, NOW) == "email"


def test_the_gap_defers_and_the_event_suppresses() -> None:
    firing, policy = plan()
    gap = Reservation("blocked", counts=(1, 1), blocked_at=1, freeing_entry=NOW - timedelta(hours=1))
    deferred = next_step(firing, [attempt(firing, policy, "email", gap)], policy, NOW)
    assert (deferred.verdict, deferred.reason, deferred.defer_until) == (
        Verdict.DEFER, SuppressReason.MIN_GAP, NOW + timedelta(hours=3))
    event = Reservation("blocked", counts=(0, 0, 1), blocked_at=2, freeing_entry=NOW)
    assert next_step(firing, [attempt(firing, policy, "email", event)], policy, NOW).reason is \
        SuppressReason.DUPLICATE


def test_a_defer_beyond_max_defer_is_a_drop() -> None:
    firing, policy = plan("defer", priority=PriorityRules(max_defer=timedelta(days=1)))
    blocked = Reservation("blocked", counts=(2,), blocked_at=0, freeing_entry=NOW - timedelta(days=1))
    assert next_step(firing, [attempt(firing, policy, "email", blocked)], policy, NOW).verdict is Verdict.SUPPRESS
