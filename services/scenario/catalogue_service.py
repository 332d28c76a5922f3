"""Scenario's service layer for the catalogue and journeys: list and show scenarios with their validation
state, pause and resume them, a customer's journeys, entering a customer by hand, triggering a campaign."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.errors import InvalidArgument, NotFound, Unavailable
from declic.scenarios.loader import Catalogue
from declic.scenarios.schema import Scenario
from services.scenario.domain.delivery import PeerFailed
from services.scenario.domain.journeys import Journey, entry_key_for, new_journey
from services.scenario.engine import JourneyEngine
from services.scenario.segments import SegmentRunner
from services.scenario.storage.controls import Controls
from services.scenario.storage.journeys import JourneyRepository


@dataclass(frozen=True)
class ScenarioView:
    """A catalogue entry as callers see it: the scenario (None when its file does not load) and its state."""

    scenario_id: str
    file: str
    scenario: Scenario | None
    problems: list[str] = field(default_factory=list)
    paused: bool = False
    source: str = ""


class CatalogueService:
    def __init__(self, uow: UnitOfWork, clock: Clock, catalogue: Catalogue, engine: JourneyEngine,
                 segments: SegmentRunner, sources: dict[str, str] | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._catalogue = catalogue
        self._engine = engine
        self._segments = segments
        self._sources = sources or {}

    def views(self, limit: int, after: str | None = None) -> list[ScenarioView]:
        """`limit` catalogue entries by id (an invalid file by its file name), after the id `after`."""
        with self._uow.begin() as session:
            paused = Controls(session).paused()
        entries = [self._view(s.id, paused) for s in self._catalogue.scenarios.values()]
        entries += [ScenarioView(name.rsplit(".", 1)[0], name, None, [str(p) for p in problems],
                                 source=self._sources.get(name, ""))
                    for name, problems in self._catalogue.problems.items()]
        ordered = sorted(entries, key=lambda view: view.scenario_id)
        return [v for v in ordered if after is None or v.scenario_id > after][:limit]

    def view(self, scenario_id: str) -> ScenarioView:
        for view in self.views(len(self._catalogue.scenarios) + len(self._catalogue.problems)):
            if view.scenario_id == scenario_id:
                return view
        raise NotFound(f"no scenario {scenario_id!r} in the catalogue")

    def _view(self, scenario_id: str, paused: frozenset[str]) -> ScenarioView:
        file = self._catalogue.files[scenario_id]
        return ScenarioView(scenario_id, file, self._catalogue.scenarios[scenario_id], paused=scenario_id in paused,
                            source=self._sources.get(file, ""))

    def set_paused(self, scenario_id: str, paused: bool, reason: str = "") -> ScenarioView:
        self._valid(scenario_id)
        with self._uow.begin() as session:
            Controls(session).set_paused(scenario_id, paused, reason, self._clock.now())
            session.commit()
        self._engine.forget_paused()
        return self.view(scenario_id)

    def journeys_of(self, customer_id: str, limit: int, after: tuple[datetime, str] | None) -> list[Journey]:
        with self._uow.begin() as session:
            return JourneyRepository(session).page_of_customer(customer_id, limit, after)

    def enter(self, scenario_id: str, customer_id: str, business_key: str, variables: dict[str, str],
              reason: str) -> tuple[Journey, bool]:
        """Enter the customer now (no entry delay); targeting is checked when the journey starts."""
        scenario = self._valid(scenario_id)
        now = self._clock.now()
        key = entry_key_for(scenario, business_key, now, f"manual:{now.isoformat()}")
        journey = new_journey(scenario, customer_id, key, now, {"type": "manual", "reason": reason})
        journey.due_at, journey.detail = now, f"entered by hand: {reason}" if reason else "entered by hand"
        journey.variables.update(variables)
        with self._uow.begin() as session:
            journeys = JourneyRepository(session)
            entered = journeys.enter(journey)
            [stored] = [j for j in journeys.of_customer(customer_id) if j.journey_id == journey.journey_id]
            session.commit()
        return stored, entered

    def trigger_campaign(self, scenario_id: str, campaign_id: str, send_at: datetime | None) -> int:
        """Enter the campaign's segment now, paced from `send_at` (or the scenario's, or now)."""
        scenario = self._valid(scenario_id)
        if scenario.trigger.campaign is None:
            raise InvalidArgument.field("scenario_id", f"{scenario_id!r} is not a campaign")
        if not campaign_id:
            raise InvalidArgument.field("campaign_id", "is required")
        campaign = scenario.trigger.campaign
        now = self._clock.now()
        start = send_at or campaign.send_at or now
        try:
            return self._segments.run(scenario, campaign.segment, f"campaign:{campaign_id}", now, start,
                                      campaign.pace_per_second)
        except PeerFailed as failure:  # the run is left unfinished: the same campaign id may be asked again
            raise Unavailable(f"{failure.detail} ({failure.cause}); try again later") from failure

    def _valid(self, scenario_id: str) -> Scenario:
        scenario = self._catalogue.scenarios.get(scenario_id)
        if scenario is None:
            if any(name.rsplit(".", 1)[0] == scenario_id for name in self._catalogue.problems):
                raise InvalidArgument.field("scenario_id", f"{scenario_id!r} does not load (see GetScenario)")
            raise NotFound(f"no scenario {scenario_id!r} in the catalogue")
        return scenario
