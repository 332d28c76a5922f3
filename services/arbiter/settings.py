"""Arbiter-only settings (`DECLIC_ARBITER_*`): where the pressure policy comes from."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.arbiter.domain.policy import simple_policy
from services.arbiter.policy_file import PolicySource

DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[2] / "policies" / "pressure.yaml"


class ArbiterSettings(BaseSettings):
    """Each field can be set with DECLIC_ARBITER_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="DECLIC_ARBITER_", extra="ignore")

    policy_file: str = Field(default=str(DEFAULT_POLICY_FILE),
                             description="The pressure policy (YAML), reloaded when it changes; empty: the fields "
                                         "below (one global cap).")
    cap: int = Field(default=3, ge=0, description="Without a policy file: marketing messages per person per window.")
    window_days: int = Field(default=7, ge=1, description="Without a policy file: length of the pressure window.")
    control_group_percent: int = Field(default=0, ge=0, le=100, description="Without a policy file: holdout share.")
    synchronous_decisions: bool = Field(
        default=False,
        description="Wait for the disk at each decision's commit (one fsync per Decide: ~4 ms on a cloud disk). "
                    "Off: PostgreSQL's asynchronous commit — a decision is visible to every replica at once and "
                    "durable within 0.6 s; only a crash of the database server loses the last of them, and Redis "
                    "still counts them unless it is lost at the same moment.")

    def policy(self) -> PolicySource:
        """The policy these settings name (a PolicyError at start when the file does not validate)."""
        if self.policy_file:
            return PolicySource(path=Path(self.policy_file))
        return PolicySource(simple_policy(self.cap, timedelta(days=self.window_days), self.control_group_percent))
