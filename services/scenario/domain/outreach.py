"""A send step becomes a firing: what the arbiter ranks and dispatch renders.

Besides the TriggerFiring's own fields (priority, channels in order of preference, transactional, the
originating event), the firing's variables carry what the arbiter's richer Decide will read:
`category`, `kind`, `journey_id`, `entry_key`, and the recommendation block (`recommendation_*`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from declic.scenarios.entry import computed
from declic.scenarios.schema import Scenario
from declic.scenarios.steps import Send
from services.scenario.domain.firings import Firing, firing_id_for
from services.scenario.domain.journeys import Journey


def firing_for(scenario: Scenario, send: Send, journey: Journey, activation: dict[str, Any], now: datetime) -> Firing:
    """The firing of `send` for this journey; its id is the same however often this step is run."""
    variables = dict(journey.variables)
    variables.update(computed(send.variables, activation))
    variables.update({"category": scenario.category, "kind": scenario.kind, "journey_id": journey.journey_id,
                      # 1 for the journey's first message, 2 for the next (a series: not parallel to it)…
                      "journey_message": str(len(journey.memory.get("sent", {})) + 1)})
    if journey.entry_key:
        variables["entry_key"] = journey.entry_key
    recommendation = send.recommendation or scenario.personalisation.recommendation
    if recommendation is not None:
        variables["recommendation_strategy"] = recommendation.strategy
        variables["recommendation_count"] = str(recommendation.count)
        if recommendation.category is not None:
            with contextlib.suppress(ValueError):  # no category to recommend around: recommend's own choice
                variables["recommendation_category"] = str(recommendation.category.evaluate(activation))
    return Firing(
        firing_id=firing_id_for(scenario.id, send.id, journey.customer_id, journey.entry_key),
        scenario_id=scenario.id, step_id=send.id, customer_id=journey.customer_id, priority=scenario.priority,
        channels=tuple(send.channels), template_id=send.template, fired_at=now,
        cause_event_id=journey.cause_event_id, variables=variables, transactional=scenario.transactional,
        next_attempt_at=now,
    )
