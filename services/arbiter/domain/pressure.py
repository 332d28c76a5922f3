"""Marketing pressure: which caps and windows apply to a firing, and who is exempt.

The domain turns the policy into *limits* — "at most N entries of this scope since this instant" —
and the Redis script (storage/counters.py) only counts, reserves and displaces against them, so a
rule lives here once. A cap counts over everything (global), one channel or one category; the
minimum gap is a limit of one over the gap; one message per originating event is a limit of one
over the event's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from declic.scenarios.durations import describe
from services.arbiter.domain.policy import Cap, Policy, Window
from services.arbiter.domain.windows import window_frees_at, window_start


@dataclass(frozen=True)
class Limit:
    """At most `limit` slots matching (`kind`, `value`) from `since` on, this firing's included."""

    rule: str
    kind: str  # "all", "channel", "category" or "event"
    value: str
    since: datetime
    limit: int
    label: str
    window: Window | None = None
    gap: timedelta | None = None

    @property
    def is_cap(self) -> bool:
        return self.window is not None


def exempt_from_cap(transactional: bool) -> bool:
    """Transactional messages (an order confirmation, a password reset) are never capped, held or gapped."""
    return transactional


def limits_for(policy: Policy, channel: str, category: str, cause_event_id: str, now: datetime,
               zone: ZoneInfo, memo: dict[tuple[str, str, ZoneInfo], tuple[Limit, ...]] | None = None
               ) -> tuple[Limit, ...]:
    """Every limit a marketing message on `channel` of `category` must keep at `now`, in the person's zone.
    `memo`: the shared limits already made for this `policy` and `now` (a batch asks the same few again and again)."""
    found = memo.get((channel, category, zone)) if memo is not None else None
    limits = found if found is not None else shared_limits(policy, channel, category, now, zone)
    if memo is not None and found is None:
        memo[channel, category, zone] = limits
    return limits + (event_limit(policy, cause_event_id, now),) if cause_event_id else limits


def shared_limits(policy: Policy, channel: str, category: str, now: datetime, zone: ZoneInfo) -> tuple[Limit, ...]:
    """The limits every firing on `channel` of `category` shares at `now` in `zone`: caps and gap."""
    limits = [_cap_limit(cap, now, zone) for cap in policy.caps
              if cap.scope == "global" or cap.value == (channel if cap.scope == "channel" else category)]
    if policy.min_gap > timedelta(0):
        limits.append(Limit("min_gap", "all", "", now - policy.min_gap, 1, _gap_label(policy.min_gap),
                            gap=policy.min_gap))
    return tuple(limits)


def event_limit(policy: Policy, cause_event_id: str, now: datetime) -> Limit:
    """One message per originating event."""
    return Limit("one_per_event", "event", cause_event_id, now - policy.priority.event_window, 1,
                 "one message per originating event")


@lru_cache(maxsize=64)
def _gap_label(gap: timedelta) -> str:
    return f"at least {describe(gap)} between two marketing messages"


def frees_at(limit: Limit, now: datetime, zone: ZoneInfo, freeing_entry: datetime | None) -> datetime | None:
    """When `limit` next has room, given the counted entry whose leaving frees it; None: never (a limit of 0,
    one message per event)."""
    if limit.limit == 0 or limit.kind == "event":
        return None
    if limit.window is not None:
        return window_frees_at(limit.window, now, zone, freeing_entry)
    if limit.gap is not None and freeing_entry is not None:
        return freeing_entry + limit.gap
    return None


def describe_count(limit: Limit, count: int) -> str:
    """"2 of 3 (3 per rolling 7 days)": how full the limit was before this firing."""
    return f"{count} of {limit.limit} ({limit.label})"


@dataclass(frozen=True)
class PressurePolicy:
    """The former single-cap policy (kept for callers of `bootstrap(policy=...)`): see `policy.simple_policy`."""

    cap: int = 3
    window: timedelta = timedelta(days=7)
    control_group_percent: int = 0

    def as_policy(self) -> Policy:
        from services.arbiter.domain.policy import simple_policy

        return simple_policy(self.cap, self.window, self.control_group_percent)


def cap_limits(policy: Policy, now: datetime, zone: ZoneInfo) -> tuple[Limit, ...]:
    """Every cap of the policy as a limit (for showing a person's pressure), whatever the channel or category."""
    return tuple(_cap_limit(cap, now, zone) for cap in policy.caps)


@lru_cache(maxsize=4096)
def _cap_limit(cap: Cap, now: datetime, zone: ZoneInfo) -> Limit:
    """A cap as a limit at `now` in `zone` (cached: a batch asks the same few again and again)."""
    label = f"{cap.limit} per {cap.window.label()}" + (f" on {cap.scope} {cap.value}" if cap.value else "")
    return Limit(f"cap:{cap.name}", "all" if cap.scope == "global" else cap.scope, cap.value,
                 window_start(cap.window, now, zone), cap.limit, label, window=cap.window)
