"""Arbiter-only settings (`DECLIC_ARBITER_*`): the default pressure policy."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.arbiter.domain.pressure import PressurePolicy


class ArbiterSettings(BaseSettings):
    """Default pressure policy; each field can be set with DECLIC_ARBITER_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="DECLIC_ARBITER_", extra="ignore")

    cap: int = Field(default=3, ge=0, description="Marketing messages per person per window.")
    window_days: int = Field(default=7, ge=1, description="Length of the pressure window.")
    control_group_percent: int = Field(default=0, ge=0, le=100, description="Share held out to measure uplift.")

    def policy(self) -> PressurePolicy:
        """The policy these settings describe."""
        return PressurePolicy(self.cap, timedelta(days=self.window_days), self.control_group_percent)
