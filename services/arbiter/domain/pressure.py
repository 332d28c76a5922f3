"""Marketing pressure: which cap and window apply, and who is exempt.

The pressure counters (Redis) only reserve a slot and say how many were taken
before it; whether that is one too many is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class PressurePolicy:
    """Marketing pressure: at most `cap` marketing messages per person per `window`."""

    cap: int = 3
    window: timedelta = timedelta(days=7)
    control_group_percent: int = 0


def exempt_from_cap(transactional: bool) -> bool:
    """Transactional messages (an order confirmation, a password reset) are never capped."""
    return transactional


def cap_reached(slots_taken_before: int, policy: PressurePolicy) -> bool:
    """Whether a send that finds `slots_taken_before` sends already in the window would exceed the cap."""
    return slots_taken_before >= policy.cap


def cap_explanation(policy: PressurePolicy) -> str:
    """Why a firing was suppressed by the cap, in words a marketer reads."""
    return f"cap of {policy.cap} messages per {policy.window.days} days reached"
