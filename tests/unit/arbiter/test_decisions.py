"""The arbiter's screening rules: consent and channel, exclusions, cool-offs, control groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.arbiter.domain.control_groups import in_control_group, in_global_control_group
from services.arbiter.domain.decisions import Decision, FiringRequest, SuppressReason, Verdict
from services.arbiter.domain.policy import ControlGroup, Policy, ScenarioRules, simple_policy
from services.arbiter.domain.screening import CoolOffFact, ExclusionFact, PersonFacts, Plan, screen

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
CHANNELS = ["email", "sms", "push", "web", "print", "call_center"]
POLICY = simple_policy()


def request(wanted=("email", "sms"), contactable=("email",), transactional=False, **more) -> FiringRequest:
    return FiringRequest("f", "welcome", "c", tuple(wanted), frozenset(contactable), transactional, **more)


NOBODY = PersonFacts()


def outcome(req: FiringRequest, facts: PersonFacts = NOBODY, policy: Policy = POLICY) -> Decision | Plan:
    return screen(req, facts, policy, NOW)


def test_first_wanted_contactable_channel_wins_unless_the_preferred_one_is_open() -> None:
    assert outcome(request(contactable=("sms", "email"))).channels == ("email", "sms")
    assert outcome(request(contactable=("sms",))).channels == ("sms",)
    assert outcome(request(contactable=("sms", "email"), preferred_channel="sms")).channels == ("sms", "email")
    assert outcome(request(contactable=("email",), preferred_channel="push")).channels == ("email",)


def test_no_contactable_channel_is_no_consent_and_elsewhere_is_no_channel() -> None:
    decision = outcome(request(contactable=()))
    assert (decision.verdict, decision.reason) == (Verdict.SUPPRESS, SuppressReason.NO_CONSENT)
    decision = outcome(request(wanted=("email",), contactable=("sms",)))
    assert (decision.verdict, decision.reason) == (Verdict.SUPPRESS, SuppressReason.NO_CHANNEL)


def test_an_exclusion_in_force_suppresses_marketing_not_transactional() -> None:
    facts = PersonFacts(exclusions=(ExclusionFact("dispute", "open dispute", "crm", NOW + timedelta(days=1)),))
    decision = outcome(request(), facts)
    assert (decision.verdict, decision.reason) == (Verdict.SUPPRESS, SuppressReason.EXCLUDED)
    assert "dispute" in decision.explanation and decision.rules[-1].rule == "exclusion:dispute"
    assert outcome(request(transactional=True), facts).verdict is Verdict.ALLOW
    expired = PersonFacts(exclusions=(ExclusionFact("dispute", "old", "crm", NOW - timedelta(seconds=1)),))
    assert isinstance(outcome(request(), expired), Plan)


def test_cool_offs_close_everything_or_one_channel() -> None:
    complaint = PersonFacts(cool_offs=(CoolOffFact("complaint", "", NOW + timedelta(days=3)),))
    assert outcome(request(), complaint).reason is SuppressReason.COOL_OFF
    unsubscribed = PersonFacts(cool_offs=(CoolOffFact("unsubscribe", "email", NOW + timedelta(days=3)),))
    assert outcome(request(contactable=("email", "sms")), unsubscribed).channels == ("sms",)
    assert outcome(request(contactable=("email",)), unsubscribed).reason is SuppressReason.COOL_OFF


def test_transactional_is_allowed_at_once_and_recorded_exempt() -> None:
    decision = outcome(request(transactional=True))
    assert (decision.verdict, decision.channel) == (Verdict.ALLOW, "email")
    assert any(rule.rule == "caps" for rule in decision.rules)


def test_control_groups_hold_out_as_a_virtual_send_on_the_channel() -> None:
    everyone = Policy(control_group=ControlGroup(global_percent=100))
    decision = outcome(request(), policy=everyone)
    assert (decision.verdict, decision.channel) == (Verdict.CONTROL_GROUP, "email")
    scenario = Policy(scenarios={"welcome": ScenarioRules(holdout_percent=100)})
    assert outcome(request(), policy=scenario).verdict is Verdict.CONTROL_GROUP
    assert isinstance(outcome(request(), policy=Policy(scenarios={"other": ScenarioRules(holdout_percent=100)})), Plan)


@given(st.text(min_size=1, max_size=12), st.floats(min_value=0, max_value=100))
def test_control_group_assignment_is_stable(customer_id: str, percent: float) -> None:
    assert in_control_group(customer_id, "s", percent) == in_control_group(customer_id, "s", percent)
    assert in_global_control_group(customer_id, percent) == in_global_control_group(customer_id, percent)
    if percent == 0:
        assert not in_control_group(customer_id, "s", percent)
    if percent == 100:
        assert in_control_group(customer_id, "s", percent) and in_global_control_group(customer_id, percent)


def test_control_group_share_is_close_to_the_percentage() -> None:
    held = sum(in_control_group(f"c{i}", "s", 10) for i in range(5000))
    assert 400 < held < 600


@given(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=6), st.sets(st.sampled_from(CHANNELS)))
def test_planned_channels_are_always_wanted_and_contactable(wanted, contactable) -> None:
    screened = outcome(request(wanted, contactable))
    if isinstance(screened, Plan):
        assert screened.channels and all(c in wanted and c in contactable for c in screened.channels)
    else:
        assert screened.verdict is Verdict.SUPPRESS and not set(wanted) & contactable


def test_a_consent_withdrawn_on_the_stream_wins_over_the_callers_view() -> None:
    withdrawn = PersonFacts(denied_channels=frozenset({"email"}))
    assert outcome(request(contactable=("email", "sms")), withdrawn).channels == ("sms",)
    decision = outcome(request(contactable=("email",)), withdrawn)
    assert (decision.reason, decision.explanation) == (SuppressReason.NO_CONSENT, "consent withdrawn on email")
    assert outcome(request(contactable=("email",), transactional=True), withdrawn).verdict is Verdict.ALLOW
