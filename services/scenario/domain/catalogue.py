"""The scenarios Declic knows and the events that make them fire.

The foundation ships one built-in scenario (welcome); the declarative
catalogue of 30+ scenarios replaces this list in the scenario issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.scenario.domain.firings import Firing, firing_id_for


@dataclass(frozen=True)
class ScenarioDefinition:
    scenario_id: str
    name: str
    kind: str
    priority: int
    step_id: str
    channels: tuple[str, ...]
    template_id: str
    description: str
    active: bool = True


@dataclass(frozen=True)
class IdentifyFacts:
    """What scenario needs to know of an accepted contact event."""

    event_id: str
    customer_id: str
    new_customer: bool
    reason: str
    first_name: str


WELCOME = ScenarioDefinition(
    scenario_id="welcome",
    name="Personalised welcome",
    kind="event_based",
    priority=50,
    step_id="welcome-offer",
    channels=("email", "sms"),
    template_id="welcome",
    description="On sign-up or account creation, a welcome offer by e-mail, or by SMS if e-mail is not possible.",
)

BUILT_IN: tuple[ScenarioDefinition, ...] = (WELCOME,)

WELCOME_REASONS = {"newsletter_signup", "account_created"}


def firings_for_identify(facts: IdentifyFacts, now: datetime) -> list[Firing]:
    """The welcome fires once per customer: when a contact is created or signs up."""
    if not (facts.new_customer or facts.reason in WELCOME_REASONS):
        return []
    scenario = WELCOME
    return [
        Firing(
            firing_id=firing_id_for(scenario.scenario_id, scenario.step_id, facts.customer_id),
            scenario_id=scenario.scenario_id,
            step_id=scenario.step_id,
            customer_id=facts.customer_id,
            priority=scenario.priority,
            channels=scenario.channels,
            template_id=scenario.template_id,
            fired_at=now,
            cause_event_id=facts.event_id,
            variables={"first_name": facts.first_name} if facts.first_name else {},
            next_attempt_at=now,
        )
    ]
