"""Profile's own settings (`DECLIC_PROFILE_*`): the rules of computed attributes.

Lists are given as JSON, e.g. DECLIC_PROFILE_RFM_RECENCY_DAYS='[30, 90, 180, 365]'.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.profile.domain.rules import AppetenceRules, LifecycleRules, ProfileRules, RfmRules

_rfm, _life, _app, _rules = RfmRules(), LifecycleRules(), AppetenceRules(), ProfileRules()


class ProfileSettings(BaseSettings):
    """Every rule of docs/profile.md, overridable from the environment."""

    model_config = SettingsConfigDict(env_prefix="DECLIC_PROFILE_", extra="ignore", frozen=True)

    rfm_window_days: int = Field(default=_rfm.window_days, ge=1, description="Window of frequency and monetary.")
    rfm_recency_days: tuple[int, ...] = Field(default=_rfm.recency_days, description="Recency bounds (days).")
    rfm_frequency_orders: tuple[int, ...] = Field(default=_rfm.frequency_orders, description="Frequency bounds.")
    rfm_monetary_units: tuple[float, ...] = Field(default=_rfm.monetary_units, description="Monetary bounds.")
    lapsed_after_days: int = Field(default=_life.lapsed_after_days, ge=1)
    at_risk_after_days: int = Field(default=_life.at_risk_after_days, ge=1)
    at_risk_interval_factor: float = Field(default=_life.at_risk_interval_factor, gt=0)
    at_risk_min_days: int = Field(default=_life.at_risk_min_days, ge=0)
    loyal_min_orders: int = Field(default=_life.loyal_min_orders, ge=1)
    loyal_min_value_units: float = Field(default=_life.loyal_min_value_units, ge=0)
    new_customer_days: int = Field(default=_life.new_customer_days, ge=0)
    appetence_half_life_days: float = Field(default=_app.half_life_days, gt=0)
    appetence_view_weight: float = Field(default=_app.view_weight, ge=0)
    appetence_cart_weight: float = Field(default=_app.cart_weight, ge=0)
    appetence_purchase_weight: float = Field(default=_app.purchase_weight, ge=0)
    appetence_attributes: tuple[str, ...] = Field(default=_app.attributes)
    default_timezone: str = Field(default=_rules.default_timezone)
    last_orders_shown: int = Field(default=_rules.last_orders_shown, ge=0, le=100)

    def rules(self) -> ProfileRules:
        return ProfileRules(
            rfm=RfmRules(self.rfm_window_days, self.rfm_recency_days, self.rfm_frequency_orders,
                         self.rfm_monetary_units),
            lifecycle=LifecycleRules(self.lapsed_after_days, self.at_risk_after_days, self.at_risk_interval_factor,
                                     self.at_risk_min_days, self.loyal_min_orders, self.loyal_min_value_units,
                                     self.new_customer_days),
            appetence=AppetenceRules(self.appetence_half_life_days, self.appetence_view_weight,
                                     self.appetence_cart_weight, self.appetence_purchase_weight,
                                     self.appetence_attributes),
            default_timezone=self.default_timezone,
            last_orders_shown=self.last_orders_shown,
        )
