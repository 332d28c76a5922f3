"""Lifecycle stage from order facts and an instant — the same rules run in Python (profiles)
and in SQL (segment queries; see storage.segments.lifecycle_case)."""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum

from services.profile.domain.orders import OrderStats, days_since
from services.profile.domain.rules import LifecycleRules


class LifecycleStage(Enum):
    PROSPECT = "prospect"
    NEW_CUSTOMER = "new_customer"
    ACTIVE = "active"
    LOYAL = "loyal"
    AT_RISK = "at_risk"
    LAPSED = "lapsed"


def least_cents_reaching(units: float) -> int:
    """The smallest whole number of cents whose value in units (cents / 100, as `lifecycle_stage` computes
    it) is at least `units`: the integer threshold SQL compares stored cents with, for the same verdict."""
    cents = math.ceil(units * 100)
    while (cents - 1) / 100 >= units:
        cents -= 1
    while cents / 100 < units:
        cents += 1
    return cents


def lifecycle_stage(stats: OrderStats, as_of: datetime, rules: LifecycleRules) -> tuple[LifecycleStage, str]:
    """The stage of a customer at `as_of`, and why. Rules are checked in a fixed order (docs/profile.md)."""
    since_last = days_since(stats.last_order_at, as_of)
    if stats.order_count == 0 or since_last is None:
        return LifecycleStage.PROSPECT, "no purchase yet"
    if since_last > rules.lapsed_after_days:
        return LifecycleStage.LAPSED, f"no purchase for {since_last:.0f} days (> {rules.lapsed_after_days})"
    if since_last > rules.at_risk_after_days:
        return LifecycleStage.AT_RISK, f"no purchase for {since_last:.0f} days (> {rules.at_risk_after_days})"
    interval = stats.average_interval_days
    overdue_after = None if interval is None else max(rules.at_risk_min_days, rules.at_risk_interval_factor * interval)
    if overdue_after is not None and since_last > overdue_after:
        return LifecycleStage.AT_RISK, (
            f"no purchase for {since_last:.0f} days, over {rules.at_risk_interval_factor}× the usual "
            f"{interval:.0f}-day interval"
        )
    value_units = stats.monetary_cents / 100
    if stats.order_count >= rules.loyal_min_orders and value_units >= rules.loyal_min_value_units:
        return LifecycleStage.LOYAL, (
            f"{stats.order_count} orders (≥ {rules.loyal_min_orders}) worth {value_units:.2f} "
            f"(≥ {rules.loyal_min_value_units:.2f})"
        )
    since_first = days_since(stats.first_order_at, as_of)
    if since_first is not None and since_first <= rules.new_customer_days:
        return LifecycleStage.NEW_CUSTOMER, (
            f"first purchase {since_first:.0f} days ago (≤ {rules.new_customer_days})"
        )
    return LifecycleStage.ACTIVE, f"last purchase {since_last:.0f} days ago, within the usual rhythm"
