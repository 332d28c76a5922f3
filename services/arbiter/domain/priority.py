"""Who wins when triggers and campaigns compete for one person, and what the loser gets.

The choice: a **holding window** per firing, with **reservations a higher priority can displace**.
A marketing firing first gets a HELD slot in the person's counters and the answer DEFER until
`now + holding_window`. While held, a firing of strictly higher priority whose caps (or minimum
gap, or originating event) would otherwise be exceeded takes the slot: the Redis script moves the
lowest-priority held slot (newest first among equals) aside, atomically, in the same call that
reserves the winner's. When the caller asks again after the window, a slot still held becomes
RESERVED and the answer is ALLOW; a slot taken meets the scenario's loser policy: drop, defer
(until a slot frees, at most `max_defer` ahead) or downgrade (the next channel the step allows).

Why not a reservation displaceable until dispatch confirms? The caller sends as soon as it hears
ALLOW, so a slot displaced after ALLOW would be a second message: over the cap. Holding before
ALLOW keeps the cap exact with the callers as they are (scenario already re-asks a deferred firing
with the same firing id). The price: every marketing message waits the holding window — the
worst-case added delay is `holding_window` (plus the caller's own polling delay); transactional
messages are never held. `holding_window: 0` is first come, first served.

Campaign-versus-trigger ordering is policy (`priority.order`): by priority alone, or every
trigger above every campaign, or the reverse.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.arbiter.domain.policy import LoserFate, Policy

CLASS_OFFSET = 1_000_000
"""Added to the outranking class's priorities (priorities are bounded far below it)."""


def effective_priority(policy: Policy, scenario_id: str, firing_priority: int, campaign: bool) -> int:
    """The priority compared in the counters: the policy's for the scenario, else the firing's; then the
    campaign/trigger ordering of the policy."""
    own = policy.for_scenario(scenario_id).priority
    priority = own if own is not None else firing_priority
    order = policy.priority.order
    if (order == "triggers_first" and not campaign) or (order == "campaigns_first" and campaign):
        priority += CLASS_OFFSET
    return priority


def loser_fate(policy: Policy, scenario_id: str, asked: str = "") -> LoserFate:
    """What happens to this firing when it loses its slot or finds the caps full: the caller's choice when it
    made one, else the policy's entry for the scenario, else its default."""
    if asked in ("drop", "defer", "downgrade"):
        return asked  # type: ignore[return-value]
    return policy.for_scenario(scenario_id).loser or policy.priority.default_loser


def hold_until(policy: Policy, now: datetime) -> datetime | None:
    """Until when a new marketing slot is held (displaceable); None when slots are reserved at once."""
    window = policy.priority.holding_window
    return now + window if window > timedelta(0) else None


def defer_target(policy: Policy, now: datetime, frees_at: datetime | None) -> datetime | None:
    """When a deferred loser should ask again; None when that is beyond `max_defer` (or never): drop it."""
    if frees_at is None or frees_at - now > policy.priority.max_defer:
        return None
    return max(frees_at, now + timedelta(seconds=1))
