"""Everything computed about a customer at an instant, with the reason for each value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from services.profile.domain.appetence import Appetence, rank
from services.profile.domain.contactability import Contactability
from services.profile.domain.identifiers import CHANNELS, phone_timezone
from services.profile.domain.lifecycle import LifecycleStage, lifecycle_stage
from services.profile.domain.orders import OrderStats, days_since
from services.profile.domain.rfm import Rfm, compute_rfm, explain_rfm
from services.profile.domain.rules import ProfileRules

# How much each reaction says about a channel the person likes.
ENGAGEMENT_WEIGHTS = {"opened": 1, "clicked": 2, "converted": 3}


def infer_timezone(identifiers: Sequence[tuple[str, str]]) -> str:
    """The zone of the person's first phone number whose country has a single zone ("" if none)."""
    for id_type, value in identifiers:
        if id_type == "phone":
            zone = _zone_of_phone(value)
            if zone:
                return zone
    return ""


@lru_cache(maxsize=100_000)
def _zone_of_phone(e164: str) -> str | None:
    # Parsing a number costs ~0.3 ms; a batch recomputes the zones of people it touches again and again.
    return phone_timezone(e164)


def effective_timezone(given: str, inferred: str, default: str) -> tuple[str, str]:
    """The person's zone and where it comes from: the profile, else their phone number, else the default."""
    if given:
        return given, "given by the person (identify)"
    if inferred:
        return inferred, "inferred from the phone number's country"
    return default, "default zone (no zone given, no phone number with a single zone)"


def preferred_channel(engagement: Mapping[str, Mapping[str, int]],
                      contactability: Sequence[Contactability]) -> tuple[str, str]:
    """The channel the person engages with most (opens 1, clicks 2, conversions 3), among contactable ones;
    without engagement, the first contactable channel in the usual order."""
    reachable = [state.channel for state in contactability if state.contactable]
    scores = {
        channel: sum(ENGAGEMENT_WEIGHTS.get(kind, 0) * count for kind, count in kinds.items())
        for channel, kinds in engagement.items() if channel in reachable
    }
    best = max(sorted(scores), key=lambda channel: scores[channel], default="")
    if best and scores[best] > 0:
        kinds = engagement[best]
        return best, (f"most engagement: {kinds.get('opened', 0)} opens, {kinds.get('clicked', 0)} clicks, "
                      f"{kinds.get('converted', 0)} conversions")
    if reachable:
        ordered = sorted(reachable, key=CHANNELS.index)
        return ordered[0], "no engagement yet: first contactable channel"
    return "", "no contactable channel"


def compute_attributes(stats: OrderStats, window_orders: int, window_monetary_cents: int, as_of: datetime,
                       rules: ProfileRules) -> tuple[LifecycleStage, Rfm, dict[str, str]]:
    """Lifecycle stage and RFM at `as_of`, with the explanation of each order-derived field."""
    stage, stage_reason = lifecycle_stage(stats, as_of, rules.lifecycle)
    rfm = compute_rfm(days_since(stats.last_order_at, as_of), window_orders, window_monetary_cents, rules.rfm)
    explanations = {"lifecycle_stage": stage_reason, "rfm": explain_rfm(rfm, rules.rfm)}
    interval = stats.average_interval_days
    if interval is None:
        explanations["average_interval_days"] = f"needs two purchases ({stats.order_count} so far)"
    else:
        explanations["average_interval_days"] = (
            f"{stats.order_count - 1} intervals between the first and last purchase: {interval:.1f} days on average")
        explanations["next_order_expected_at"] = "last purchase + usual interval"
    explanations["promo_sensitivity"] = (
        f"{stats.discounted_order_count} of {stats.order_count} purchases with a discount or promo code"
        if stats.order_count else "no purchase yet")
    explanations["monetary_value"] = "purchases minus returns, all time"
    return stage, rfm, explanations


def appetences_now(scores: Sequence[tuple[str, str, float]], limit: int = 10) -> list[Appetence]:
    """The strongest appetences per dimension (scores already decayed to the instant asked)."""
    ranked = rank([score for score in scores if score[2] > 1e-6])
    shown: dict[str, int] = {}
    result = []
    for appetence in ranked:
        shown[appetence.dimension] = shown.get(appetence.dimension, 0) + 1
        if shown[appetence.dimension] <= limit:
            result.append(appetence)
    return result
