"""Scenario journeys end to end: real processes over gRPC on the shared simulated clock.

A paused scenario (welcome) starts no journey; an abandoned cart is reminded two hours later (not at once), on
the channel the person can be reached on, by ingest → scenario (journey, timer) → arbiter → dispatch; an order
then interrupts the journey in the middle of its one-day wait. The clock jumps: the test does not wait two hours.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, timedelta

import pytest

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.dispatch.v1 import dispatch_pb2, dispatch_pb2_grpc
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.protoconv import to_timestamp
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.scenarios.keys import in_holdout, journey_id_for
from tests.e2e.conftest import INTERNAL_TOKEN, START, event, eventually, jump

pytestmark = pytest.mark.e2e


def test_abandoned_cart_reminded_two_hours_later_then_an_order_interrupts(simulated) -> None:
    stack, clock = simulated
    from declic.kit.channels import make_channel

    ingest = ingest_pb2_grpc.IngestServiceStub(make_channel(stack.address("ingest"), INTERNAL_TOKEN))
    scenario = scenario_pb2_grpc.ScenarioServiceStub(make_channel(stack.address("scenario"), INTERNAL_TOKEN))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(make_channel(stack.address("dispatch"), INTERNAL_TOKEN))
    # The welcome would take the day's one marketing message (the arbiter's cap): pause it for this test.
    paused = scenario.PauseScenario(scenario_pb2.PauseScenarioRequest(scenario_id="welcome", reason="e2e"), timeout=5)
    assert paused.scenario.paused
    time.sleep(1.2)  # every replica re-reads the paused scenarios within a second
    holdout = scenario.GetScenario(scenario_pb2.GetScenarioRequest(scenario_id="abandoned-cart"),
                                   timeout=5).scenario.holdout_percent
    consent = identity_pb2.Consent(channel=identity_pb2.CHANNEL_EMAIL, state=identity_pb2.CONSENT_STATE_GRANTED,
                                   legal_basis=identity_pb2.LEGAL_BASIS_CONSENT, source="web", time=to_timestamp(START))
    while True:  # a customer outside the scenario's control group (a stable hash of the journey: 1 in 10 is in it)
        email = f"cart.{uuid.uuid4().hex[:6]}@example.com"
        signup = event(email, START, identify=event_pb2.Identify(first_name="Cleo", reason="account_updated",
                                                                timezone="Europe/Paris", consents=[consent]))
        customer_id = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=signup), timeout=30).result.customer_id
        if not in_holdout(journey_id_for("abandoned-cart", customer_id, "cart-1"), holdout):
            break
    cart = event(email, START, cart_change=event_pb2.CartChange(cart_id="cart-1", action=event_pb2.CART_ACTION_ADD,
                                                                 product_id="dress-1", quantity=1))
    assert ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=cart), timeout=30).result.status == (
        ingest_pb2.EVENT_STATUS_ACCEPTED)

    def journey(scenario_id: str) -> scenario_pb2.Journey | None:
        found = scenario.ListJourneys(scenario_pb2.ListJourneysRequest(customer_id=customer_id), timeout=5).journeys
        return next((j for j in found if j.scenario_id == scenario_id), None)

    entered = eventually(lambda: journey("abandoned-cart"))
    assert journey("welcome") is None  # paused: started for nobody
    assert entered.state == scenario_pb2.JOURNEY_STATE_SCHEDULED and entered.entry_key == "cart-1"
    due = entered.due_at.ToDatetime(tzinfo=UTC)  # not at once: two hours after the cart (the clock runs meanwhile)
    assert START + timedelta(hours=2) <= due < START + timedelta(hours=2, minutes=1)
    time.sleep(1.5)
    assert journey("abandoned-cart").state == scenario_pb2.JOURNEY_STATE_SCHEDULED

    jump(clock, due + timedelta(minutes=1))
    waiting = eventually(lambda: (j := journey("abandoned-cart")) and j.state == scenario_pb2.JOURNEY_STATE_WAITING
                         and j)
    assert waiting.step == "2-wait"

    def reminder() -> dispatch_pb2.Message | None:
        messages = dispatch.ListMessages(dispatch_pb2.ListMessagesRequest(customer_id=customer_id), timeout=5).messages
        return next((m for m in messages if m.scenario_id == "abandoned-cart"), None)

    message = None
    for minutes in range(5, 35, 5):  # the arbiter holds a marketing message a while (its priority window)
        jump(clock, due + timedelta(minutes=minutes))
        deadline = time.monotonic() + 8
        while message is None and time.monotonic() < deadline:
            message = reminder()
            time.sleep(0.3)
        if message is not None:
            break
    firings = scenario.ListFirings(scenario_pb2.ListFiringsRequest(customer_id=customer_id), timeout=5).firings
    assert message is not None, [(f.firing.scenario_id, f.state, f.detail) for f in firings]
    assert message.channel == identity_pb2.CHANNEL_EMAIL and message.address == email
    # Dispatch told the arbiter it went out: the firing's slot is kept for good.
    arbiter = arbiter_pb2_grpc.ArbiterServiceStub(make_channel(stack.address("arbiter"), INTERNAL_TOKEN))
    eventually(lambda: arbiter.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id=message.firing_id),
                                           timeout=5).decision.slot == arbiter_pb2.SLOT_STATE_CONFIRMED)

    order = event(email, clock.now(), order=event_pb2.Order(
        order_id="o-1", kind=event_pb2.ORDER_KIND_PURCHASE, channel=event_pb2.ORDER_CHANNEL_ONLINE,
        lines=[event_pb2.OrderLine(product_id="dress-1", quantity=1, category="dresses",
                                   unit_price=money_pb2.Money(currency_code="EUR", units=59))]))
    result = ingest.IngestEvent(ingest_pb2.IngestEventRequest(event=order), timeout=30).result
    assert result.status == ingest_pb2.EVENT_STATUS_ACCEPTED, result
    deadline, stopped = time.monotonic() + 30, journey("abandoned-cart")
    while stopped.state != scenario_pb2.JOURNEY_STATE_INTERRUPTED and time.monotonic() < deadline:
        time.sleep(0.3)
        stopped = journey("abandoned-cart")
    assert stopped.state == scenario_pb2.JOURNEY_STATE_INTERRUPTED, (stopped, [
        (j.scenario_id, j.state, j.detail) for j in scenario.ListJourneys(
            scenario_pb2.ListJourneysRequest(customer_id=customer_id), timeout=5).journeys], result)
    assert stopped.detail.startswith("interrupted by order") and not stopped.HasField("due_at")
    assert stopped.HasField("goal_reached_at")  # the order is the journey's conversion
    jump(clock, START + timedelta(days=2))
    time.sleep(2)
    messages = dispatch.ListMessages(dispatch_pb2.ListMessagesRequest(customer_id=customer_id), timeout=5).messages
    assert [m.scenario_id for m in messages].count("abandoned-cart") == 1  # no reassurance after the order
