"""Recommend-only settings (`DECLIC_RECOMMEND_*`): model polling, scheduled retraining, the guard's hold-out."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RecommendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DECLIC_RECOMMEND_", extra="ignore")

    poll_seconds: float = Field(default=5.0, gt=0, description="How often a replica looks for a new model or "
                                                               "catalogue changes.")
    retrain_hours: float = Field(default=24.0, ge=0, description="Scheduled retraining period (0: never).")
    holdout_days: int = Field(default=28, ge=1, description="The guard's held-out time split: the last days.")
    epochs: int = Field(default=30, ge=1, le=1000, description="Training passes.")
    components: int = Field(default=64, ge=2, le=512, description="Embedding dimensions.")
