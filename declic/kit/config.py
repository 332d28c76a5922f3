"""Typed configuration from `DECLIC_*` environment variables (12-factor).

Every default gives the embedded stack (the bundled PostgreSQL server with its
data under ./var/postgres, the bundled Redis on port 6390), so `make run` needs
no configuration at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SERVICES = ("ingest", "profile", "scenario", "recommend", "arbiter", "dispatch")

DEFAULT_PORTS = {
    "ingest": 50051,
    "profile": 50052,
    "scenario": 50053,
    "recommend": 50054,
    "arbiter": 50055,
    "dispatch": 50056,
}

EMBEDDED_REDIS_PORT = 6390


class ConfigError(Exception):
    """Raised at start when the environment does not give a valid configuration."""


class Settings(BaseSettings):
    """The whole configuration of one Declic process."""

    model_config = SettingsConfigDict(env_prefix="DECLIC_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="",
        description=(
            "postgresql:// URL of the PostgreSQL database every service uses, each in its own schema "
            "(see db_schema_prefix). Empty: the bundled PostgreSQL server, started on demand with its data "
            "under <var_dir>/postgres."
        ),
    )
    db_schema_prefix: str = Field(
        default="declic_",
        description="Each service keeps its tables in schema <prefix><service>.",
    )
    redis_url: str = Field(
        default=f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0",
        description="Redis for the hand-off stream, counters and locks. Default: the embedded server.",
    )
    stream_prefix: str = Field(
        default="declic",
        description="Prefix of every Redis key Declic writes (lets several stacks share one Redis).",
    )
    host: str = Field(default="127.0.0.1", description="Interface the gRPC servers listen on.")
    var_dir: Path = Field(default=Path("var"), description="Where the embedded stack keeps its files.")
    grace_period_seconds: float = Field(
        default=5.0, description="On SIGTERM: time given to in-flight calls before the server stops."
    )
    drain_seconds: float = Field(
        default=1.0, ge=0, description="On SIGTERM: time answering NOT_SERVING before refusing new calls."
    )
    max_workers: int = Field(default=16, ge=1, description="Threads serving gRPC calls per process.")
    log_level: str = Field(default="INFO", description="Python logging level.")
    call_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Deadline of every call a service makes to another."
    )
    default_region: str = Field(
        default="FR", description="Region used to read phone numbers written without a country code."
    )

    auth_tokens: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description=(
            'JSON object token → scopes, e.g. {"cc-7f3a…": ["profile:read", "arbiter:read"]}. '
            "Scopes: <service>:read, <service>:write, <service>:*, *. Empty: auth off (local default)."
        ),
    )
    client_token: str = Field(
        default="", description="Token this process presents when it calls a service (service-to-service, CLI)."
    )

    clock: str = Field(
        default="system",
        description='"system" (wall clock) or "shared": a simulated time in Redis for the whole stack (demo, tests).',
    )
    traces_exporter: str = Field(
        default="none",
        description="OpenTelemetry traces: none, console, otlp (OTEL_EXPORTER_OTLP_*), or jsonl:<path with {service}>.",
    )

    ingest_port: int = Field(default=DEFAULT_PORTS["ingest"], ge=1, le=65535)
    profile_port: int = Field(default=DEFAULT_PORTS["profile"], ge=1, le=65535)
    scenario_port: int = Field(default=DEFAULT_PORTS["scenario"], ge=1, le=65535)
    recommend_port: int = Field(default=DEFAULT_PORTS["recommend"], ge=1, le=65535)
    arbiter_port: int = Field(default=DEFAULT_PORTS["arbiter"], ge=1, le=65535)
    dispatch_port: int = Field(default=DEFAULT_PORTS["dispatch"], ge=1, le=65535)

    ingest_address: str = Field(default="", description="host:port of ingest; default 127.0.0.1:<ingest_port>.")
    profile_address: str = Field(default="", description="host:port of profile.")
    scenario_address: str = Field(default="", description="host:port of scenario.")
    recommend_address: str = Field(default="", description="host:port of recommend.")
    arbiter_address: str = Field(default="", description="host:port of arbiter.")
    dispatch_address: str = Field(default="", description="host:port of dispatch.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (or empty: the bundled PostgreSQL server)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _tokens_from_json(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"must be a JSON object token → list of scopes ({exc.msg})") from None
        return value

    @field_validator("clock")
    @classmethod
    def _known_clock(cls, value: str) -> str:
        if value not in {"system", "shared"}:
            raise ValueError('must be "system" or "shared"')
        return value

    @field_validator("traces_exporter")
    @classmethod
    def _known_exporter(cls, value: str) -> str:
        if value not in {"none", "console", "otlp"} and not value.startswith("jsonl:"):
            raise ValueError("must be none, console, otlp or jsonl:<path>")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    def port(self, service: str) -> int:
        """The port `service` listens on."""
        return int(getattr(self, f"{service}_port"))

    def address(self, service: str) -> str:
        """Where other services reach `service`."""
        explicit = getattr(self, f"{service}_address")
        return explicit or f"127.0.0.1:{self.port(service)}"

    @property
    def uses_bundled_postgres(self) -> bool:
        """Whether the database is the bundled server under var_dir (DECLIC_DATABASE_URL unset)."""
        return not self.database_url


def load_settings(**overrides: object) -> Settings:
    """Read the environment; on bad values raise ConfigError naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"DECLIC_{field.upper()}: {error['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
