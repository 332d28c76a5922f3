"""Who may enter a journey once its delay is over, and what it will say to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from declic.scenarios.entry import activation
from declic.scenarios.entry import eligible as targeting_allows
from declic.scenarios.entry import personalise as personalised
from declic.scenarios.schema import Scenario
from services.scenario.domain.journeys import Journey


def eligible(scenario: Scenario, journey: Journey, profile: dict[str, Any], now: datetime) -> tuple[bool, str]:
    """Targeting on the fresh profile; why not, in words, when the person may not enter."""
    ok, reasons = targeting_allows(scenario, activation(journey.entry_event(), profile, journey.cel(), now))
    return ok, "; ".join(reasons)


def personalise(scenario: Scenario, journey: Journey, profile: dict[str, Any], now: datetime) -> dict[str, str]:
    """The personalisation variables, computed once at entry and kept with the journey."""
    return personalised(scenario, activation(journey.entry_event(), profile, journey.cel(), now))
