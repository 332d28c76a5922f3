"""Scenario asks the real arbiter (a server on a free port, its shipped policy) with what its firing knows: the
scenario file's category, whether it comes from a campaign, the person's preferred channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import ManualClock
from declic.kit.protoconv import channel_name
from services.arbiter.policy_file import PolicySource
from services.scenario.clients import PeerClients
from services.scenario.domain.delivery import Contact, Verdict
from services.scenario.domain.firings import Firing

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Paris: no quiet hours


def firing(firing_id: str, customer_id: str, scenario_id: str = "satisfaction-survey", cause: str = "",
           **variables: str) -> Firing:
    return Firing(firing_id=firing_id, scenario_id=scenario_id, step_id="ask", customer_id=customer_id,
                  priority=40, channels=("email", "sms"), template_id="survey", fired_at=NOW,
                  cause_event_id=cause or f"order-{firing_id}", variables=dict(variables))


def test_category_campaign_and_preferred_channel_reach_the_arbiter(start_service) -> None:
    _, channel = start_service("arbiter", clock=ManualClock(NOW))
    peers = PeerClients({"profile": channel, "arbiter": channel, "dispatch": channel}, timeout=10)
    contact = Contact(first_name="Ann", timezone="Europe/Paris",
                      addresses={"email": "ann@example.com", "sms": "+33612345678"}, preferred_channel="sms")

    asked = {"f1": peers.decide(firing("f1", "c-1", category="service", kind="transaction"), {}, contact),
             "f2": peers.decide(firing("f2", "c-2", category="marketing", kind="campaign"), {}, contact),
             "f3": peers.decide(firing("f3", "c-3", category="marketing", kind="event"), {}, contact)}
    assert all(answer.verdict in (Verdict.ALLOW, Verdict.DEFER) for answer in asked.values())

    arbiter = arbiter_pb2_grpc.ArbiterServiceStub(channel)
    decisions = {firing_id: arbiter.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id=firing_id)).decision
                 for firing_id in asked}
    assert decisions["f1"].category == "service"  # counted against the service cap, not marketing's
    assert decisions["f2"].category == "marketing"
    # The shipped policy ranks triggers above campaigns: same file priority, the trigger's effective one is higher.
    assert decisions["f3"].priority > decisions["f2"].priority
    # The preferred channel, open and allowed by the step, is the one reserved (e-mail comes first in the step).
    assert {channel_name(d.channel) for d in decisions.values()} == {"sms"}


def test_a_journeys_next_message_is_a_series_not_a_second_answer_to_its_event(start_service) -> None:
    """One message per originating event stops a second scenario answering the sign-up, not the welcome's own
    reminder three days later. (The end-to-end tests' policy: only a weekly cap besides that rule.)"""
    clock = ManualClock(NOW)
    policy = PolicySource(path=Path(__file__).parents[2] / "e2e" / "pressure.yaml")
    _, channel = start_service("arbiter", clock=clock, policy=policy)
    peers = PeerClients({"profile": channel, "arbiter": channel, "dispatch": channel}, timeout=10)
    contact = Contact(first_name="Ann", timezone="Europe/Paris", addresses={"email": "ann@example.com"})

    def decide(firing_id: str, scenario_id: str, message: str) -> Verdict:
        proposal = firing(firing_id, "c-9", scenario_id, cause="signup-1", category="marketing", kind="event",
                          journey_message=message)
        return peers.decide(proposal, {}, contact).verdict

    assert decide("w1", "welcome", "1") is Verdict.ALLOW
    assert decide("n1", "first-purchase-nudge", "1") is Verdict.SUPPRESS  # a second answer to the sign-up
    clock.advance(timedelta(days=3))
    assert decide("w2", "welcome", "2") is Verdict.ALLOW  # "it is not too late": the welcome's own series
