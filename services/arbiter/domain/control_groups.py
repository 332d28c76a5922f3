"""Control groups: who is held out to measure uplift, by a stable hash (the same person, the same answer)."""

from __future__ import annotations

import hashlib

from services.arbiter.domain.policy import Policy

_BUCKETS = 10_000


def _bucket(*parts: str) -> int:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS


def in_control_group(customer_id: str, scenario_id: str, percent: float) -> bool:
    """Whether the person is in the scenario's holdout of `percent` % (0 never, 100 always)."""
    return percent > 0 and _bucket(scenario_id, customer_id) < percent * _BUCKETS / 100


def in_global_control_group(customer_id: str, percent: float) -> bool:
    """Whether the person is in the global control group: no marketing message at all."""
    return percent > 0 and _bucket("global-control", customer_id) < percent * _BUCKETS / 100


def held_out(customer_id: str, scenario_id: str, policy: Policy) -> str | None:
    """Why a marketing firing is held out (a virtual send), or None when it is not."""
    global_percent = policy.control_group.global_percent
    if in_global_control_group(customer_id, global_percent):
        return f"global control group ({global_percent:g}% of customers get no marketing message)"
    holdout = policy.for_scenario(scenario_id).holdout_percent
    if in_control_group(customer_id, scenario_id, holdout):
        return f"held out: control group of {holdout:g}% for scenario {scenario_id}"
    return None
