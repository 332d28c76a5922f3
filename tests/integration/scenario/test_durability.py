"""Journeys on the real database: exactly once across replicas and restarts, waits for an event, re-entry
rules, pauses, and dates relative to a profile attribute."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from services.scenario.domain.journeys import JourneyState, entry_key_for
from services.scenario.storage.controls import Controls
from tests.integration.scenario.harness import Harness, cart_add, identify, order, profile

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def harness(settings):
    harness = Harness(settings, start=START)
    yield harness
    harness.close()


def test_two_replicas_on_the_same_tables_fire_each_step_once(harness) -> None:
    customers = [f"r{n}" for n in range(60)]
    for customer in customers:
        harness.profiles.known[customer] = profile(customer)
        harness.send(customer, cart_add(f"cart-{customer}"))
    replicas = [harness.new_engine(), harness.new_engine()]
    handled = [0, 0]

    def work(index: int) -> None:
        while replicas[index].advance_due(7):
            handled[index] += 1

    for _ in range(3):  # reminder after 2 h, wait 1 day, reassurance
        harness.clock.advance(timedelta(hours=13))
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    firings = [f for c in customers for f in harness.firings(c, "abandoned-cart")]
    states = [harness.journey(c, "abandoned-cart").state for c in customers]
    contacted = states.count(JourneyState.COMPLETED)
    assert set(states) == {JourneyState.COMPLETED, JourneyState.HELD_OUT} and contacted > 45  # 10 % held out
    assert len(firings) == 2 * contacted  # each of the two sends, once per customer
    assert len({f.firing_id for f in firings}) == len(firings)
    assert all(handled)  # both replicas took their share


def test_a_restart_in_the_middle_of_a_wait_and_a_lost_lease(harness) -> None:
    harness.profiles.known["z"] = profile("z")
    harness.send("z", cart_add("cart-z"))
    harness.run(timedelta(hours=3))
    assert [f.step_id for f in harness.firings("z")] == ["cart-reminder"]
    harness.engine = harness.new_engine()  # the process restarts: all it knew was in the tables
    harness.clock.advance(timedelta(days=1))
    with harness.uow.begin() as session:  # a worker claims the due journey, then dies before saving
        from services.scenario.storage.journeys import JourneyRepository
        [claimed] = JourneyRepository(session).claim_due(harness.clock.now(), timedelta(seconds=30), 10)
        session.commit()
    assert harness.engine.advance_due() == 0  # leased to the dead worker
    harness.run(timedelta(minutes=1))  # the lease ends: another worker takes it
    assert [f.step_id for f in harness.firings("z")] == ["cart-reminder", "reassurance"]
    assert claimed.journey_id == harness.journey("z", "abandoned-cart").journey_id


def test_waiting_for_an_event_goes_on_when_it_comes(harness) -> None:
    harness.profiles.known["w"] = profile("w")
    harness.send("w", order("o-55"))
    harness.run(timedelta(hours=1))
    journey = harness.journey("w", "order-follow-up-wait-for-delivery")
    assert (journey.state, journey.waiting_for) == (JourneyState.WAITING, "order")
    delivered = order("o-55")
    delivered.context["status"] = "delivered"
    harness.clock.advance(timedelta(days=2))
    harness.send("w", delivered)
    assert harness.journey("w", "order-follow-up-wait-for-delivery").state is JourneyState.ACTIVE
    harness.run(timedelta(days=1, hours=1))
    [tips] = harness.firings("w", "order-follow-up-wait-for-delivery")
    # The worker's next tick after the delivery (30 min) + the 1-day wait; not the 10-day timeout.
    assert tips.fired_at == START + timedelta(days=2, hours=1) + timedelta(minutes=30) + timedelta(days=1)


def test_re_entry_once_per_period_and_once_per_business_key(harness) -> None:
    harness.profiles.known["p"] = profile("p")
    for url in ("https://s/offers", "https://s/offers?page=2", "https://s/offers?again"):
        if url.endswith("again"):
            harness.clock.advance(timedelta(days=8))
        event = identify()
        event.ClearField("identify")
        event.page_view.url = url
        harness.send("p", event)
    offers = [j for j in harness.journeys("p") if j.scenario_id == "offer-page-visit"]
    assert len(offers) == 2  # once per 7 days
    for cart in ("a", "a", "b"):
        harness.send("p", cart_add(cart))
    carts = [j for j in harness.journeys("p") if j.scenario_id == "abandoned-cart"]
    assert sorted(j.entry_key for j in carts) == ["a", "b"]


def test_once_per_period_counts_from_the_last_entry_not_from_the_calendar(harness) -> None:
    harness.profiles.known["pp"] = profile("pp")
    offers = harness.engine.scenario("offer-page-visit")
    assert offers is not None and offers.re_entry.period == timedelta(days=7)

    def visit() -> list[str]:
        event = identify()
        event.ClearField("identify")
        event.page_view.url = "https://s/offers"
        harness.send("pp", event)
        return sorted(j.entry_key for j in harness.journeys("pp") if j.scenario_id == "offer-page-visit")

    [first] = visit()
    harness.clock.advance(timedelta(days=3))
    assert entry_key_for(offers, "", harness.clock.now()) != first  # another period of the calendar…
    assert visit() == [first]  # …but 3 days after the last entry: not entered
    harness.clock.advance(timedelta(days=5))
    assert len(visit()) == 2  # 8 days after it


def test_a_paused_scenario_holds_its_journeys_and_starts_none(harness) -> None:
    harness.profiles.known["q"] = profile("q")
    harness.send("q", cart_add("cart-q"))
    with harness.uow.begin() as session:
        Controls(session).set_paused("abandoned-cart", True, "creative under review", harness.clock.now())
        session.commit()
    harness.engine.forget_paused()
    harness.send("q", cart_add("cart-q2"))
    harness.run(timedelta(hours=3))
    assert harness.firings("q") == [] and harness.journey("q", "abandoned-cart").detail == "scenario paused"
    with harness.uow.begin() as session:
        Controls(session).set_paused("abandoned-cart", False, "", harness.clock.now())
        session.commit()
    harness.engine.forget_paused()
    harness.run(timedelta(minutes=10), step=timedelta(minutes=10))
    harness.run(timedelta(minutes=5), step=timedelta(minutes=5))
    assert [f.step_id for f in harness.firings("q")] == ["cart-reminder"]


def test_subscription_expiry_three_days_before_then_on_the_day_and_a_renewal_stops_it(harness) -> None:
    for customer in ("s1", "s2"):
        harness.profiles.known[customer] = profile(customer, timezone="Europe/Paris")
        harness.send(customer, identify("profile_update", subscription_expires_on="2026-03-31"))
    harness.run(timedelta(days=26))  # to 28 March 09:00 UTC
    assert [f.fired_at for f in harness.firings("s1")] == [datetime(2026, 3, 28, 9, tzinfo=UTC)]  # 10:00 CET
    harness.send("s2", identify("profile_update", subscription_expires_on="2027-03-31"))  # renewed
    harness.run(timedelta(days=4))
    assert [f.fired_at for f in harness.firings("s1")] == [datetime(2026, 3, 28, 9, tzinfo=UTC),
                                                           datetime(2026, 3, 31, 8, tzinfo=UTC)]  # 10:00 CEST
    assert len(harness.firings("s2", "subscription-expiry")) == 1
    stopped = [j for j in harness.journeys("s2") if j.entry_key == "2026-03-31"]
    assert stopped[0].state is JourneyState.INTERRUPTED


def test_a_segment_run_computes_the_same_journey_ids_as_the_engine_and_paces_a_campaign(harness) -> None:
    harness.profiles.segment_members = [f"m{n}" for n in range(7)] + ["ünïcode-☃"]
    campaign = harness.catalogue.scenarios["spring-sale-campaign"]
    assert harness.segments.run(campaign, campaign.trigger.campaign.segment, "campaign:c1", harness.clock.now(),
                                START + timedelta(hours=1), 4) == 8
    assert harness.segments.run(campaign, campaign.trigger.campaign.segment, "campaign:c1", harness.clock.now()) == 0
    from services.scenario.domain.journeys import journey_id_for
    for n, customer in enumerate(harness.profiles.segment_members):
        journey = harness.journey(customer, "spring-sale-campaign")
        assert journey.journey_id == journey_id_for("spring-sale-campaign", customer, "campaign:c1")
        assert journey.due_at == START + timedelta(hours=1, seconds=n / 4)  # 4 messages per second


def test_a_product_viewed_three_times_is_recalled_once_a_day_later(harness) -> None:
    from declic.common.v1 import event_pb2

    harness.profiles.known["v"] = profile("v", contactability={"email": True, "push": False})
    for _ in range(3):  # three batches: the open journey is met in the database, one more occurrence each time
        harness.send("v", event_pb2.Event(product_view=event_pb2.ProductView(product_id="p-42", category="toys")))
    assert harness.journey("v", "product-viewed-three-times").occurrences == 3
    harness.run(timedelta(days=1, hours=1))
    [recall] = harness.firings("v", "product-viewed-three-times")
    assert recall.variables["product_id"] == "p-42" and recall.variables["recommendation_category"] == "toys"


@pytest.mark.parametrize("cuts", [(1, 2, 3, 4), (1, 4), (4,)], ids=["one by one", "two batches", "one batch"])
def test_once_per_period_counts_the_same_wherever_the_batches_are_cut(harness, cuts) -> None:
    """p-1 viewed, then p-2 (held back: p-1 entered the scenario within its 30 days), then p-1 twice more: p-1's
    journey counts three views and is recalled — in one batch, or with p-2 entered tentatively in the batch where
    p-1's journey is only in the database (it held p-1's views back before the customer's last entry was read)."""
    from declic.common.v1 import event_pb2

    harness.profiles.known["w"] = profile("w", contactability={"email": True, "push": False})
    records = [harness.record("w", event_pb2.Event(product_view=event_pb2.ProductView(product_id=p, category="toys")))
               for p in ("p-1", "p-2", "p-1", "p-1")]
    start = 0
    for end in cuts:
        harness.intake.handle_batch(records[start:end])
        start = end
    [journey] = [j for j in harness.journeys("w") if j.scenario_id == "product-viewed-three-times"]
    assert journey.entry_key.startswith("p-1@") and journey.occurrences == 3
    harness.run(timedelta(days=1, hours=1))
    [recall] = harness.firings("w", "product-viewed-three-times")
    assert recall.variables["product_id"] == "p-1"


def test_a_segment_run_cut_short_by_profile_is_run_again_at_the_next_check(harness) -> None:
    from services.scenario.domain.delivery import PeerFailed

    birthday = harness.catalogue.scenarios["birthday"]
    harness.profiles.segment_members = ["b1", "b2"]
    real = harness.profiles.segment

    def down(*args, **kwargs):
        raise PeerFailed("profile: UNAVAILABLE", transient=True)
        yield  # pragma: no cover - a generator, as the real one

    harness.profiles.segment = down  # type: ignore[method-assign]
    with pytest.raises(PeerFailed):
        harness.segments.run_due([birthday])
    harness.profiles.segment = real  # type: ignore[method-assign]
    assert harness.segments.run_due([birthday]) == 2
    assert harness.segments.run_due([birthday]) == 0  # this hour's run is done
    assert harness.journey("b1", "birthday").entry_key == "2026"  # once a year
