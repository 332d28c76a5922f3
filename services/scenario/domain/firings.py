"""Trigger firings: a scenario step that wants to contact one customer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class FiringState(Enum):
    PENDING = "pending"
    SENT = "sent"
    DEFERRED = "deferred"
    SUPPRESSED = "suppressed"
    CONTROL_GROUP = "control_group"


@dataclass
class Firing:
    firing_id: str
    scenario_id: str
    step_id: str
    customer_id: str
    priority: int
    channels: tuple[str, ...]
    template_id: str
    fired_at: datetime
    cause_event_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    transactional: bool = False
    state: FiringState = FiringState.PENDING
    detail: str = ""
    attempts: int = 0
    next_attempt_at: datetime | None = None
    # W3C trace context of the event that caused the firing: delivery continues its trace.
    trace_context: dict[str, str] = field(default_factory=dict)


def firing_id_for(scenario_id: str, step_id: str, customer_id: str, occurrence: str = "") -> str:
    """Deterministic id: the same scenario step for the same customer and occurrence fires once.

    `occurrence` distinguishes legitimate re-entries (an order id, a date); empty means "once ever".
    """
    key = f"{scenario_id}|{step_id}|{customer_id}|{occurrence}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
