"""A scenario engine on the real database, fed hand-off records, with profiles given by the test.

Profile is a stand-in here (a dict per customer, as conditions see it): the real profile service is exercised
by the e2e tests. Everything else — intake, journeys, timers, firings — is the service's own code.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import ManualClock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.protoconv import to_timestamp
from declic.kit.sql_sets import send_lists_in_binary
from declic.scenarios.loader import load_catalogue
from declic.scenarios.samples import SAMPLE_PROFILE
from services.scenario.domain.firings import Firing
from services.scenario.domain.journeys import Journey
from services.scenario.domain.matching import Matcher
from services.scenario.engine import JourneyEngine
from services.scenario.intake import HandoffIntake
from services.scenario.segments import SegmentRunner
from services.scenario.storage.firings import FiringRepository
from services.scenario.storage.journeys import JourneyRepository

_ids = itertools.count()


def profile(customer_id: str, **fields: Any) -> dict[str, Any]:
    """A profile as conditions see it: e-mailable, active, in Paris, unless `fields` say otherwise."""
    facts = {**SAMPLE_PROFILE, "customer_id": customer_id, "timezone": "Europe/Paris", "lifecycle": "active",
             "contactability": {**SAMPLE_PROFILE["contactability"], "email": True}}
    facts.update(fields)
    return facts


@dataclass
class Profiles:
    """The stand-in profile peer: known profiles, segments by name, and a count of calls."""

    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    segment_members: list[str] = field(default_factory=list)
    calls: int = 0

    def profile_facts(self, customer_id: str, now: datetime) -> dict[str, Any] | None:
        self.calls += 1
        return self.known.get(customer_id)

    def segment(self, segment: Any, as_of: datetime, batch_size: int = 5000):
        for start in range(0, len(self.segment_members), batch_size):
            yield self.segment_members[start:start + batch_size]


class Harness:
    def __init__(self, settings: Settings, scenarios_dir: Path | None = None,
                 start: datetime | None = None) -> None:
        self.db = make_engine(settings, "scenario")
        migrate(self.db, "scenario", settings)
        send_lists_in_binary(self.db)  # as services.scenario.main does
        self.uow = UnitOfWork(session_factory(self.db))
        self.clock = ManualClock(start)
        self.catalogue = load_catalogue(scenarios_dir)
        self.profiles = Profiles()
        self.engine = self.new_engine()
        self.intake = HandoffIntake(self.uow, self.clock, self.engine)
        self.segments = SegmentRunner(self.uow, self.clock, self.profiles, batch=1000)

    def new_engine(self) -> JourneyEngine:
        """Another engine on the same tables (a second replica, or the same after a restart)."""
        return JourneyEngine(self.uow, self.clock, Matcher(self.catalogue.scenarios.values()), self.profiles)

    def send(self, customer_id: str, event: event_pb2.Event, new_customer: bool = False) -> None:
        """Hand an accepted event to the intake, as ingest's relay would."""
        self.intake(self.record(customer_id, event, new_customer))

    def record(self, customer_id: str, event: event_pb2.Event, new_customer: bool = False) -> bytes:
        """The hand-off record of an accepted event, as ingest's relay writes it (for the intake's batches)."""
        if not event.event_id:
            event.event_id = f"e{next(_ids)}"
        event.source = event.source or "web"
        event.event_time.CopyFrom(to_timestamp(self.clock.now()))
        record = handoff_pb2.HandoffRecord(record_id=f"{event.source}:{event.event_id}", accepted_event=(
            handoff_pb2.AcceptedEvent(event=event, customer_id=customer_id, new_customer=new_customer)))
        return record.SerializeToString()

    def run(self, until: timedelta, step: timedelta = timedelta(minutes=30)) -> None:
        """Let simulated time pass, the journey worker taking due steps as it goes."""
        end = self.clock.now() + until
        while self.clock.now() < end:
            self.clock.advance(min(step, end - self.clock.now()))
            while self.engine.advance_due(500):
                pass

    def journeys(self, customer_id: str) -> list[Journey]:
        with self.uow.begin() as session:
            return JourneyRepository(session).of_customer(customer_id)

    def journey(self, customer_id: str, scenario_id: str) -> Journey:
        [journey] = [j for j in self.journeys(customer_id) if j.scenario_id == scenario_id]
        return journey

    def firings(self, customer_id: str, scenario_id: str | None = None) -> list[Firing]:
        with self.uow.begin() as session:
            found = FiringRepository(session).for_customer(customer_id)
        return [f for f in found if scenario_id is None or f.scenario_id == scenario_id]

    def close(self) -> None:
        self.db.dispose()


def identify(reason: str = "newsletter_signup", **attributes: str) -> event_pb2.Event:
    return event_pb2.Event(identify=event_pb2.Identify(first_name="Ann", reason=reason, attributes=attributes))


def cart_add(cart_id: str, product_id: str = "p1") -> event_pb2.Event:
    return event_pb2.Event(cart_change=event_pb2.CartChange(cart_id=cart_id, action=event_pb2.CART_ACTION_ADD,
                                                            product_id=product_id, quantity=1))


def order(order_id: str = "o1", category: str = "shoes", units: int = 60) -> event_pb2.Event:
    line = event_pb2.OrderLine(product_id="p1", quantity=1, category=category)
    line.unit_price.units, line.unit_price.currency_code = units, "EUR"
    event = event_pb2.Event(order=event_pb2.Order(order_id=order_id, kind=event_pb2.ORDER_KIND_PURCHASE, lines=[line],
                                                  channel=event_pb2.ORDER_CHANNEL_ONLINE))
    event.order.total.units, event.order.total.currency_code = units, "EUR"
    return event


def engagement(scenario_id: str, kind: int = event_pb2.ENGAGEMENT_KIND_OPENED) -> event_pb2.Event:
    return event_pb2.Event(message_engagement=event_pb2.MessageEngagement(message_id="m1", kind=kind,
                                                                          scenario_id=scenario_id))


def shipped_intake(uow: UnitOfWork, clock: ManualClock, profiles: Profiles | None = None) -> HandoffIntake:
    """Scenario's hand-off intake over the shipped catalogue, as services.scenario.main wires it (profiles: the
    stand-in; by default it knows nobody, so events are applied and matched but nobody enters)."""
    matcher = Matcher(load_catalogue(None).scenarios.values())
    return HandoffIntake(uow, clock, JourneyEngine(uow, clock, matcher, profiles or Profiles()))
