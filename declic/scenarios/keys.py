"""What makes an entry unique, and who is held out: deterministic, so every replica, a restart and
`declic scenarios dry-run` agree."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache

from declic.scenarios.schema import Scenario


@lru_cache(maxsize=65_536)
def journey_id_for(scenario_id: str, customer_id: str, entry_key: str) -> str:
    """Deterministic: the same scenario, customer and entry key are one journey. (Remembered: a customer's events
    enter the same journeys again and again — a product viewed again, a cart changed.)"""
    return hashlib.sha256(f"{scenario_id}|{customer_id}|{entry_key}".encode()).hexdigest()[:32]


MAX_ENTRY_KEY = 200
"""Characters of an entry key as stored (journeys.entry_key); a longer key (a page's URL, up to the door's bound)
keeps its start, readable, and ends with a digest of the whole, so two keys stay two."""


def bounded_key(key: str) -> str:
    if len(key) <= MAX_ENTRY_KEY:
        return key
    return f"{key[:MAX_ENTRY_KEY - 41]}#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def entry_key_for(scenario: Scenario, business_key: str, now: datetime, event_id: str = "") -> str:
    """What makes an entry unique, by the re-entry rule: nothing (once ever), the business key, the period
    the entry falls in (once per period; the last entry's time is also checked), or the event itself (always).
    Never longer than MAX_ENTRY_KEY."""
    return bounded_key(_entry_key(scenario, business_key, now, event_id))


def reads_event_id(scenario: Scenario) -> bool:
    """Whether `entry_key_for` depends on the event's id (entered always: each event is its own entry)."""
    return scenario.re_entry.rule not in ("once", "once_per_key", "once_per_period")


def _entry_key(scenario: Scenario, business_key: str, now: datetime, event_id: str) -> str:
    rule = scenario.re_entry
    if rule.rule == "once":
        return ""
    if rule.rule == "once_per_key":
        return business_key
    if rule.rule == "once_per_period":
        assert rule.period is not None
        bucket = int(now.timestamp() // rule.period.total_seconds())
        return f"{business_key}@{bucket}" if business_key else f"@{bucket}"
    return business_key or event_id or now.isoformat()


def in_holdout(journey_id: str, percent: int) -> bool:
    """Stable per journey: the same journey is always in or out of the control group."""
    return int(journey_id[:8], 16) % 100 < percent
