"""Scenario's own settings: where the catalogue is (`DECLIC_SCENARIOS_DIR`) and how its workers pace."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from declic.scenarios.loader import DEFAULT_DIR


class ScenarioSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DECLIC_SCENARIO_", extra="ignore", frozen=True, populate_by_name=True)

    scenarios_dir: Path = Field(default=DEFAULT_DIR, validation_alias=AliasChoices(
        "DECLIC_SCENARIOS_DIR", "DECLIC_SCENARIO_SCENARIOS_DIR"), description="The catalogue: one YAML per scenario.")
    due_batch: int = Field(default=200, ge=1, le=5000, description="Due journeys taken per transaction.")
    handoff_batch: int = Field(default=1000, ge=1, le=10_000, description=(
        "Hand-off records applied per transaction (set-based: a batch costs a few statements whatever its size; "
        "1,000 measured 10-20 % more events/s than 500, 2,000 no more)."))
    segment_batch: int = Field(default=5000, ge=100, le=100_000, description="Profiles entered per statement.")
    segment_check_seconds: float = Field(default=5.0, gt=0, description="How often time-based slots are checked.")
