"""Priority over gRPC: inside the holding window a higher priority takes the slot; the loser meets its fate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import ManualClock
from services.arbiter.domain.policy import PriorityRules, ScenarioRules
from tests.integration.arbiter.support import EMAIL, SMS, capped, decide_request

pytestmark = pytest.mark.integration
HOLD = timedelta(minutes=2)


def test_a_later_higher_priority_wins_the_last_slot(start_service) -> None:
    clock = ManualClock()
    _, channel = start_service("arbiter", clock=clock, policy=capped(1, HOLD), intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    low = stub.Decide(decide_request("low", priority=1)).decision
    assert (low.verdict, low.reason, low.slot) == (arbiter_pb2.VERDICT_DEFER, arbiter_pb2.SUPPRESS_REASON_PRIORITY_HOLD,
                                                   arbiter_pb2.SLOT_STATE_HELD)
    clock.advance(timedelta(seconds=30))
    high = stub.Decide(decide_request("high", priority=9)).decision
    assert high.verdict == arbiter_pb2.VERDICT_DEFER
    lower = stub.Decide(decide_request("lower", priority=0)).decision  # finds the slot held by a higher one
    assert (lower.verdict, lower.reason) == (arbiter_pb2.VERDICT_SUPPRESS, arbiter_pb2.SUPPRESS_REASON_CAP_REACHED)
    clock.advance(HOLD)
    low_again = stub.Decide(decide_request("low", priority=1)).decision
    assert (low_again.verdict, low_again.reason) == (arbiter_pb2.VERDICT_SUPPRESS,
                                                     arbiter_pb2.SUPPRESS_REASON_HIGHER_PRIORITY)
    assert "high" in low_again.explanation
    high_again = stub.Decide(decide_request("high", priority=9)).decision
    assert (high_again.verdict, high_again.channel, high_again.slot) == (
        arbiter_pb2.VERDICT_ALLOW, EMAIL, arbiter_pb2.SLOT_STATE_RESERVED)
    # Final answers do not change; the rules say why.
    assert stub.Decide(decide_request("high", priority=9)).decision == high_again
    explained = stub.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id="low")).decision
    assert [r.rule for r in explained.rules][-1] == "priority" and explained.policy_version == "builtin"


def test_the_losers_fate_defer_or_downgrade(start_service) -> None:
    clock = ManualClock()
    policy = capped(1, HOLD, scenarios={"later": ScenarioRules(loser="defer")})
    _, channel = start_service("arbiter", clock=clock, policy=policy, intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    stub.Decide(decide_request("low", scenario_id="later", priority=1))
    stub.Decide(decide_request("high", priority=5))
    clock.advance(HOLD)
    assert stub.Decide(decide_request("high", priority=5)).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    deferred = stub.Decide(decide_request("low", scenario_id="later", priority=1)).decision
    assert (deferred.verdict, deferred.reason) == (arbiter_pb2.VERDICT_DEFER,
                                                   arbiter_pb2.SUPPRESS_REASON_HIGHER_PRIORITY)
    assert deferred.defer_until.ToSeconds() == int((clock.now() - HOLD + timedelta(days=7)).timestamp())


def test_downgrade_tries_the_next_channel_under_a_channel_cap(start_service) -> None:
    from services.arbiter.domain.policy import Cap, Policy, Window

    policy = Policy(caps=(Cap(name="email-day", scope="channel", value="email", limit=1,
                              window=Window(calendar="day")),), priority=PriorityRules(default_loser="downgrade"))
    _, channel = start_service("arbiter", clock=ManualClock(), policy=policy, intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    first = stub.Decide(decide_request("a", channels=(EMAIL, SMS))).decision
    second = stub.Decide(decide_request("b", channels=(EMAIL, SMS))).decision
    assert (first.channel, second.verdict, second.channel) == (EMAIL, arbiter_pb2.VERDICT_ALLOW, SMS)
    assert [(r.rule, r.outcome) for r in second.rules if r.rule.startswith("cap")] == [
        ("cap:email-day@email", arbiter_pb2.RULE_OUTCOME_BLOCKED)]


def test_triggers_first_outranks_any_campaign_and_one_message_per_event(start_service) -> None:
    clock = ManualClock()
    policy = capped(1, HOLD).model_copy(update={"priority": PriorityRules(holding_window=HOLD, order="triggers_first")})
    _, channel = start_service("arbiter", clock=clock, policy=policy, intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    stub.Decide(decide_request("campaign", priority=500, campaign=True))
    stub.Decide(decide_request("trigger", priority=1))
    clock.advance(HOLD)
    assert stub.Decide(decide_request("trigger", priority=1)).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    assert stub.Decide(decide_request("campaign", priority=500, campaign=True)).decision.verdict == \
        arbiter_pb2.VERDICT_SUPPRESS
    # Two scenarios reacting to the same event: only one reaches the person.
    _, other = start_service("arbiter", clock=clock, policy=capped(9), intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(other)
    first = stub.Decide(decide_request("x1", customer_id="c-2", scenario_id="a", cause_event_id="ev")).decision
    second = stub.Decide(decide_request("x2", customer_id="c-2", scenario_id="b", cause_event_id="ev")).decision
    assert first.verdict == arbiter_pb2.VERDICT_ALLOW
    assert (second.verdict, second.reason) == (arbiter_pb2.VERDICT_SUPPRESS, arbiter_pb2.SUPPRESS_REASON_DUPLICATE)


def test_a_held_firing_stopped_by_a_new_exclusion_gives_its_slot_back(start_service) -> None:
    clock = ManualClock()
    _, channel = start_service("arbiter", clock=clock, policy=capped(1, HOLD), intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    assert stub.Decide(decide_request("held")).decision.slot == arbiter_pb2.SLOT_STATE_HELD
    stub.Exclude(arbiter_pb2.ExcludeRequest(exclusion=arbiter_pb2.Exclusion(
        customer_id="c-1", list="sales", reason="handled by sales", source="crm")))
    clock.advance(HOLD)
    assert stub.Decide(decide_request("held")).decision.reason == arbiter_pb2.SUPPRESS_REASON_EXCLUDED
    assert stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id="c-1")).counters[0].used == 0


def test_a_calendar_day_cap_resets_at_the_persons_midnight_across_daylight_saving(start_service) -> None:
    from datetime import UTC, datetime

    from services.arbiter.domain.policy import Cap, Policy, Window

    # Paris springs forward on 29 March 2026: that day ends at 22:00 UTC (midnight CEST), not 23:00.
    clock = ManualClock(datetime(2026, 3, 29, 21, 30, tzinfo=UTC))  # 23:30 CEST
    policy = Policy(caps=(Cap(name="day", limit=1, window=Window(calendar="day")),))
    _, channel = start_service("arbiter", clock=clock, policy=policy, intake=False)
    stub = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    paris = {"timezone": "Europe/Paris"}
    assert stub.Decide(decide_request("d1", **paris)).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    assert stub.Decide(decide_request("d2", **paris)).decision.verdict == arbiter_pb2.VERDICT_SUPPRESS
    clock.advance(timedelta(minutes=31))  # 00:01 CEST on the 30th: a new day for her
    assert stub.Decide(decide_request("d3", **paris)).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    # Someone in Auckland (UTC+13 that day) is mid-morning of the 30th: one send, then the cap.
    kiwi = {"timezone": "Pacific/Auckland", "customer_id": "c-nz"}
    assert stub.Decide(decide_request("n1", **kiwi)).decision.verdict == arbiter_pb2.VERDICT_ALLOW
    assert stub.Decide(decide_request("n2", **kiwi)).decision.verdict == arbiter_pb2.VERDICT_SUPPRESS
