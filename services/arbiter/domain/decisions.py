"""Decisions on one trigger firing: allow on a channel, defer, suppress, or hold out as control.

Pure rules. `decide` judges everything but the cap; a decision that
`needs_slot` reserves one (Redis, atomic across replicas) and `apply_cap`
judges the count the reservation found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from services.arbiter.domain.pressure import PressurePolicy, cap_explanation, cap_reached, exempt_from_cap


class Verdict(Enum):
    ALLOW = "allow"
    DEFER = "defer"
    SUPPRESS = "suppress"
    CONTROL_GROUP = "control_group"


class SuppressReason(Enum):
    NONE = "none"
    NO_CONSENT = "no_consent"
    CAP_REACHED = "cap_reached"
    COOL_OFF = "cool_off"
    HIGHER_PRIORITY = "higher_priority"
    EXCLUDED = "excluded"
    NO_CHANNEL = "no_channel"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class FiringRequest:
    """What the arbiter needs to know about one firing."""

    firing_id: str
    scenario_id: str
    customer_id: str
    wanted_channels: tuple[str, ...]
    contactable_channels: frozenset[str]
    transactional: bool = False


@dataclass(frozen=True)
class Decision:
    """The arbiter's answer for one firing, with the reason a marketer reads."""

    firing_id: str
    customer_id: str
    scenario_id: str
    verdict: Verdict
    decided_at: datetime
    channel: str = ""
    reason: SuppressReason = SuppressReason.NONE
    explanation: str = ""
    defer_until: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


def choose_channel(request: FiringRequest) -> str | None:
    """The first channel the step wants that the person can be reached on, or None."""
    for channel in request.wanted_channels:
        if channel in request.contactable_channels:
            return channel
    return None


def in_control_group(customer_id: str, scenario_id: str, percent: int) -> bool:
    """Stable assignment: the same person is always in (or out of) a scenario's control group."""
    if percent <= 0:
        return False
    bucket = int(hashlib.sha256(f"{scenario_id}|{customer_id}".encode()).hexdigest()[:8], 16) % 100
    return bucket < percent


def decide(request: FiringRequest, policy: PressurePolicy, now: datetime) -> Decision:
    """Judge one firing on consent, channels and control group; the cap is judged by `apply_cap`."""

    def make(verdict: Verdict, explanation: str, channel: str = "",
             reason: SuppressReason = SuppressReason.NONE) -> Decision:
        return Decision(request.firing_id, request.customer_id, request.scenario_id, verdict, now,
                        channel=channel, reason=reason, explanation=explanation)

    channel = choose_channel(request)
    if channel is None:
        if not request.contactable_channels:
            return make(Verdict.SUPPRESS, reason=SuppressReason.NO_CONSENT,
                        explanation="the person cannot be reached on any channel (consent or address missing)")
        wanted = ", ".join(request.wanted_channels) or "none"
        return make(Verdict.SUPPRESS, reason=SuppressReason.NO_CHANNEL,
                    explanation=f"none of the scenario's channels ({wanted}) is open for this person")
    if in_control_group(request.customer_id, request.scenario_id, policy.control_group_percent):
        return make(Verdict.CONTROL_GROUP, channel=channel,
                    explanation=f"held out: control group of {policy.control_group_percent}%")
    return make(Verdict.ALLOW, channel=channel, explanation=f"allowed on {channel}")


def needs_slot(decision: Decision, request: FiringRequest) -> bool:
    """Whether the firing takes a slot under the pressure cap: an allowed marketing message does."""
    return decision.verdict is Verdict.ALLOW and not exempt_from_cap(request.transactional)


def apply_cap(decision: Decision, slots_taken_before: int, policy: PressurePolicy) -> Decision:
    """`decision` unchanged while under the cap; suppressed once `slots_taken_before` reaches it."""
    if not cap_reached(slots_taken_before, policy):
        return decision
    return replace(decision, verdict=Verdict.SUPPRESS, channel="", reason=SuppressReason.CAP_REACHED,
                   explanation=cap_explanation(policy))
