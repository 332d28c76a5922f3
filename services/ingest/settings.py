"""Ingest-only settings (`DECLIC_INGEST_*`): limits of the API and guard rails of identity merges.

General settings (database, Redis, ports, `default_region` for phone numbers) stay in `declic.kit.config`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TYPE_LIMITS = {
    "crm_id": 1,
    "loyalty_card": 3,
    "email": 5,
    "phone": 5,
    "device_id": 25,
    "anonymous_id": 200,
}

DEFAULT_BLOCKLIST = [
    "email:noreply@*",
    "email:no-reply@*",
    "email:noemail@*",
    "email:no-email@*",
    "email:nomail@*",
    "email:none@*",
    "email:unknown@*",
    "email:test@test.com",
    "email:*@example.invalid",
    "phone:+33000000000",
    "phone:+440000000000",
    "loyalty_card:0",
    "loyalty_card:00000000",
    "device_id:00000000-0000-0000-0000-000000000000",
]


class IngestSettings(BaseSettings):
    """Limits and guard rails of ingest; each field can be set with DECLIC_INGEST_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="DECLIC_INGEST_", extra="ignore", frozen=True)

    max_batch_events: int = Field(default=1000, ge=1, description="Most events one IngestBatch may carry.")
    max_batch_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, description="Largest IngestBatch request.")
    max_future_seconds: float = Field(
        default=600.0, ge=0, description="How far past the receive time an event_time may be (clock skew)."
    )
    type_limits: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_TYPE_LIMITS),
        description="Most values of each identifier type one customer may hold; a merge beyond is refused.",
    )
    blocklist: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BLOCKLIST),
        description='Identifiers never used to recognise anyone: "type:value", "*" matches any characters.',
    )
    consume_erasures: bool = Field(
        default=True, description="Read customer_erased records from the privacy stream (consumer group ingest)."
    )
    validation_cache_bytes: int = Field(
        default=32 * 1024 * 1024, ge=0, description="Most bytes (estimated) the gRPC process keeps of answers of the "
        "rules for good sources and identifiers met again (0: none kept); refused input is never kept.",
    )
    relay_batch_size: int = Field(
        default=8, ge=1, description="Outbox rows relayed per round (a row holds the records of one transaction)."
    )
    handoff_frames: bool = Field(
        default=True, description="Append a transaction's hand-off records as one stream entry (consumers split it). "
        "False: one entry per record, for consumers older than framed entries (upgrade them first, then set true).",
    )
    relay_niceness: int = Field(
        default=10, ge=0, le=19, description="How much lower the CPU priority of the relay process is (Unix "
        "niceness, 0: the same as the gRPC and writer processes): it yields to validation and writing, which "
        "answer the calls, and publishes in the CPU they leave.")
    writer_process: bool = Field(
        default=True, description="Write the validated batches in a process of their own (another core), not in a "
        "thread of the gRPC process.",
    )
    background_process: bool = Field(
        default=True, description="Run the outbox relay and the privacy intake in a child process (another core)."
    )
