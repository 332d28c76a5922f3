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
    WITHDRAWING = "withdrawing"
    """Stopped before it was sent (its journey interrupted, a duplicate after a merge) after the arbiter was asked:
    the slot the arbiter may hold for it is given back (Release), then it is SUPPRESSED."""


OPEN_STATES = frozenset({FiringState.PENDING, FiringState.DEFERRED, FiringState.WITHDRAWING})
"""States of a firing the delivery loop still has work on: due again at its `next_attempt_at`."""


@dataclass
class Firing:
    """One scenario step that wants to contact one customer, and where its delivery stands."""

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


@dataclass(frozen=True)
class Settlement:
    """Where an attempt (or a merge) leaves a firing: its state, why, and when it is due again (None: never)."""

    state: FiringState
    detail: str
    next_attempt_at: datetime | None = None


def split_after_merge(
    survivor_id: str, survivor_firings: list[Firing], merged_firings: list[Firing]
) -> tuple[list[Firing], dict[str, Settlement]]:
    """After a merge, the merged customer's open firings: those the survivor takes over, and those it
    already has (the same scenario step), settled as duplicates. Closed firings stay as they were."""
    survivor_steps = {(f.scenario_id, f.step_id) for f in survivor_firings}
    duplicate = f"duplicate: merged into {survivor_id}, which has this step already"
    taken_over: list[Firing] = []
    duplicates: dict[str, Settlement] = {}
    for firing in merged_firings:
        if firing.state not in OPEN_STATES:
            continue
        if (firing.scenario_id, firing.step_id) in survivor_steps:
            duplicates[firing.firing_id] = stopped(firing, duplicate)
        else:
            taken_over.append(firing)
    return taken_over, duplicates


def stopped(firing: Firing, detail: str) -> Settlement:
    """An open firing that will not be sent: suppressed at once if the arbiter was never asked, else withdrawn
    first (due at once: the delivery loop gives its slot back). `FiringRepository.settle_open` does the same in
    SQL for many at a time."""
    if firing.state is FiringState.WITHDRAWING or firing.attempts > 0:
        return Settlement(FiringState.WITHDRAWING, detail, firing.fired_at)
    return Settlement(FiringState.SUPPRESSED, detail)
