"""Applying a batch of accepted events to journeys in one go: the customers' journeys are read once (locked),
steered and entered in memory in event order, then written back in a few statements.

The rules are the domain's (`matching`, `reactions`, `journeys`); this module only gathers and stores, so a
batch of 500 events costs a handful of round trips instead of several per event.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from declic.kit.telemetry import continued_span, tracing_enabled
from declic.scenarios.facts import compact_event
from declic.scenarios.keys import reads_event_id
from declic.scenarios.schema import Scenario
from services.scenario.domain.firings import FiringState, Settlement, firing_id_for
from services.scenario.domain.journeys import Journey, JourneyState, entry_key_for, journey_id_for, new_journey
from services.scenario.domain.matching import Entry, Matcher
from services.scenario.domain.reactions import react
from services.scenario.storage.firings import FiringRepository
from services.scenario.storage.journeys import JourneyRepository


@dataclass(slots=True)
class AcceptedFacts:
    """One accepted event as the engine takes it: its facts, its customer, its trace, and the scenarios it starts
    (paused or not; found when the batch is applied if not given)."""

    event: dict[str, Any]
    customer_id: str
    trace: dict[str, str] = field(default_factory=dict)
    entries: tuple[Entry, ...] | None = None


def with_entries(matcher: Matcher, item: AcceptedFacts, now: datetime) -> AcceptedFacts:
    if item.entries is not None:
        return item
    return AcceptedFacts(item.event, item.customer_id, item.trace, tuple(matcher.entries(item.event, now)))


def changes_anything(matcher: Matcher, item: AcceptedFacts) -> bool:
    """Whether applying the event may change anything: it starts a scenario, or its type may steer a journey. One
    that may not needs no inbox row either (applied twice, it changes nothing twice)."""
    return bool(item.entries) or matcher.reacts_to(item.event.get("type", ""))


class MetJourneys:
    """The journeys this process's batches entered, counted or found held back lately, and the customers' scenarios
    entered once per period among them (up to `limit`, then forgotten at once): an entry into one of those journeys
    again is most likely one more occurrence, and another journey of one of those scenarios most likely held back —
    both are settled on their ids before any row is sent (`JourneyRepository.enter_many`). A guess for speed only:
    the database decides either way."""

    def __init__(self, limit: int = 200_000) -> None:
        self.ids: set[str] = set()
        self.pairs: set[tuple[str, str]] = set()
        self._limit = limit

    def knows(self, journey: Journey) -> bool:
        return journey.journey_id in self.ids or (journey.customer_id, journey.scenario_id) in self.pairs

    def add(self, journeys: Collection[Journey], once_per: Container[str]) -> None:
        if len(self.ids) + len(journeys) > self._limit:
            self.ids.clear()
            self.pairs.clear()
        for journey in journeys:
            self.ids.add(journey.journey_id)
            if journey.scenario_id in once_per:
                self.pairs.add((journey.customer_id, journey.scenario_id))


class Batch:
    """The journeys of a batch's customers, in memory while the batch is applied."""

    def __init__(self, journeys: list[Journey]) -> None:
        self.by_customer: dict[str, dict[str, Journey]] = {}
        """Customer → their journeys by id (a journey replaced keeps its place)."""
        for journey in journeys:
            self.by_customer.setdefault(journey.customer_id, {})[journey.journey_id] = journey
        self.by_id = {journey.journey_id: journey for journey in journeys}
        self.new: dict[str, Journey] = {}
        self.changed: dict[str, Journey] = {}
        self.interrupted: list[Journey] = []
        self.entry_ids: dict[tuple[str, str, str, str], tuple[str, str]] = {}
        """(scenario, customer, business key, event id if the key reads it) → entry key and journey id, at the
        batch's `now`."""
        self.last_entered: dict[tuple[str, str], tuple[datetime, str]] = {}
        """(customer, scenario) → last entry in this batch, for scenarios entered once per period."""

    def put(self, journey: Journey) -> None:
        """Keep the journey's latest state (it replaces the one read, or entered earlier in the batch)."""
        old = self.by_id.get(journey.journey_id)
        self.by_id[journey.journey_id] = journey
        self.by_customer.setdefault(journey.customer_id, {})[journey.journey_id] = journey
        (self.new if journey.journey_id in self.new or old is None else self.changed)[journey.journey_id] = journey


def apply_events(session: Session, matcher: Matcher, items: Sequence[AcceptedFacts], now: datetime,
                 paused: frozenset[str], met: MetJourneys | None = None) -> int:
    """Steer and enter journeys for `items`, in order; how many journeys were entered (`met`: the entries met in
    earlier batches, kept up to date)."""
    repository = JourneyRepository(session)
    items = [with_entries(matcher, item, now) for item in items]
    # Only the journeys these events may steer are read: each customer's in the scenarios its events may steer. An
    # entry into a journey not read meets it in the database (one more occurrence when open, ignored when ended).
    types = {item.event.get("type", "") for item in items}
    steered = {(item.customer_id, scenario_id) for item in items
               for scenario_id in matcher.steered_scenarios(item.event.get("type", ""))}
    since = now - matcher.longest_goal if types & matcher.goal_events else None
    batch = Batch(repository.of_customers(steered, lock=True, goals_since=since))
    contested = _contested(matcher, batch, items, now, paused)
    if contested:
        # Two journeys of one scenario entered once per period, for one customer, in one batch: which one the period
        # keeps depends on the customer's last entry before the batch — read it, so that the outcome is the one of
        # events applied one by one, wherever the batches are cut.
        batch.last_entered.update(repository.last_entries(contested))
    traced = tracing_enabled()
    for item in items:
        if traced:
            with continued_span("handoff.apply accepted_event", item.trace):
                _apply(matcher, batch, item, now, paused)
        else:
            _apply(matcher, batch, item, now, paused)
    repository.save_many(list(batch.changed.values()), now)
    # An entry into a scenario entered once per period is checked against the customer's last entry before the
    # batch where it is written (the database's; this batch's own are checked above).
    entered = repository.enter_many(list(batch.new.values()), count_occurrences=True, once_per=matcher.once_per,
                                    met=met.knows if met is not None else None)
    if met is not None:
        met.add(batch.new.values(), matcher.once_per)
    for journey in batch.interrupted:
        _cancel_sends(session, matcher.scenarios[journey.scenario_id], journey)
    return entered


def _apply(matcher: Matcher, batch: Batch, item: AcceptedFacts, now: datetime, paused: frozenset[str]) -> None:
    event, customer_id = item.event, item.customer_id
    steered = matcher.steered_set(event.get("type", ""))
    if steered:
        for journey in list(batch.by_customer.get(customer_id, {}).values()):
            if journey.scenario_id not in steered:  # (the event changes nothing for it)
                continue
            scenario = matcher.scenarios.get(journey.scenario_id)
            after = react(scenario, journey, event, now) if scenario else None
            if after is not None:
                batch.put(after)
                if after.state is JourneyState.INTERRUPTED:
                    batch.interrupted.append(after)
    kept: dict[str, Any] | None = None
    for entry in item.entries or ():
        scenario = entry.scenario
        if scenario.id in paused:
            continue
        key, journey_id = _entry_ids(batch, entry, customer_id, event.get("id", ""), now)
        existing = batch.by_id.get(journey_id)
        if existing is not None:
            if existing.is_open:  # the same entry again: one more occurrence (a product viewed again…)
                existing.occurrences += 1
                batch.put(existing)
            continue
        last = batch.last_entered.get((customer_id, scenario.id))
        if last is not None and last[1] != journey_id and not _may_reenter(scenario, last[0], now):
            continue  # (the same journey again is counted by the database, as one more occurrence)
        kept = kept or compact_event(event)  # once for all the journeys the event enters
        journey = new_journey(scenario, customer_id, key, now, event, event.get("id", ""), kept, journey_id)
        if last is None or last[1] != journey_id:  # (the last entry again: one more occurrence, not a new entry)
            batch.last_entered[(customer_id, scenario.id)] = (now, journey_id)
        if item.trace:
            journey.memory["trace"] = item.trace
        batch.put(journey)


def _entry_ids(batch: Batch, entry: Entry, customer_id: str, event_id: str, now: datetime) -> tuple[str, str]:
    """The entry key and journey id of `entry` for the customer (worked out once per batch)."""
    scenario = entry.scenario
    memo = (scenario.id, customer_id, entry.business_key, event_id if reads_event_id(scenario) else "")
    known = batch.entry_ids.get(memo)
    if known is None:
        key = entry_key_for(scenario, entry.business_key, now, event_id)
        known = batch.entry_ids[memo] = (key, journey_id_for(scenario.id, customer_id, key))
    return known


def _contested(matcher: Matcher, batch: Batch, items: Sequence[AcceptedFacts], now: datetime,
               paused: frozenset[str]) -> set[tuple[str, str]]:
    """The (customer, scenario) pairs of scenarios entered once per period that more than one journey of the batch
    would enter (rare: most batches have none, and then nothing more is read)."""
    once_per = matcher.once_per
    if not once_per:
        return set()
    seen: dict[tuple[str, str], str] = {}
    contested: set[tuple[str, str]] = set()
    for item in items:
        for entry in item.entries or ():
            scenario_id = entry.scenario.id
            if scenario_id not in once_per or scenario_id in paused:
                continue
            _, journey_id = _entry_ids(batch, entry, item.customer_id, item.event.get("id", ""), now)
            pair = (item.customer_id, scenario_id)
            if seen.setdefault(pair, journey_id) != journey_id:
                contested.add(pair)
    return contested


def _may_reenter(scenario: Scenario, last_entered: datetime | None, now: datetime) -> bool:
    """Once per period: no entry into the scenario within the period before now."""
    period = scenario.re_entry.period
    return period is None or last_entered is None or now - last_entered >= period


def _cancel_sends(session: Session, scenario: Scenario, journey: Journey) -> None:
    """An interrupted journey's messages not sent yet are not sent."""
    ids = [firing_id_for(scenario.id, step, journey.customer_id, journey.entry_key)
           for step in journey.memory.get("sent", {})]
    FiringRepository(session).settle_open(ids, Settlement(FiringState.SUPPRESSED, journey.detail))
