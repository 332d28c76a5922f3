"""The configurable rules behind computed attributes (see docs/profile.md).

Defaults suit a retailer with a few purchases a year; every value can be
changed with a `DECLIC_PROFILE_*` environment variable (services/profile/settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RfmRules:
    """RFM over a sliding window; a score is 1 + the number of bounds the value passes."""

    window_days: int = 365
    # Recency: days since the last order at or below each bound score 5, 4, 3, 2; beyond the last, 1.
    recency_days: tuple[int, ...] = (30, 90, 180, 365)
    # Frequency: orders in the window strictly above each bound add one point (1 order → 1, 9+ → 5).
    frequency_orders: tuple[int, ...] = (1, 2, 4, 8)
    # Monetary: net value in the window, in currency units, strictly above each bound adds one point.
    monetary_units: tuple[float, ...] = (100.0, 250.0, 500.0, 1000.0)


@dataclass(frozen=True)
class LifecycleRules:
    """Thresholds of the lifecycle stages, checked in this order:
    prospect → lapsed → at risk → loyal → new customer → active."""

    lapsed_after_days: int = 365
    at_risk_after_days: int = 120
    # Also at risk when the usual interval is exceeded this many times (and at least at_risk_min_days).
    at_risk_interval_factor: float = 2.0
    at_risk_min_days: int = 30
    loyal_min_orders: int = 5
    loyal_min_value_units: float = 500.0
    new_customer_days: int = 90


@dataclass(frozen=True)
class AppetenceRules:
    """Appetences: decayed sums of signal weights per category and product attribute."""

    half_life_days: float = 30.0
    view_weight: float = 1.0
    cart_weight: float = 3.0
    purchase_weight: float = 5.0
    # Product attributes (from the catalogue) that become appetence dimensions beside "category".
    attributes: tuple[str, ...] = ("animal", "department", "style", "brand")


@dataclass(frozen=True)
class ProfileRules:
    rfm: RfmRules = RfmRules()
    lifecycle: LifecycleRules = LifecycleRules()
    appetence: AppetenceRules = AppetenceRules()
    # Zone used for "birthday today" when neither the profile nor the phone number gives one.
    default_timezone: str = "Europe/Paris"
    # How many recent orders the call-center summary shows.
    last_orders_shown: int = 5
