"""Arbiter's entrypoint."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from services.arbiter.domain.decisions import PressurePolicy
from services.arbiter.grpc_api import ArbiterServicer
from services.arbiter.pressure import PressureCounter
from services.arbiter.service import ArbiterService

NAME = "arbiter"


class ArbiterSettings(BaseSettings):
    """Default pressure policy (DECLIC_ARBITER_*)."""

    model_config = SettingsConfigDict(env_prefix="DECLIC_ARBITER_", extra="ignore")

    cap: int = Field(default=3, ge=0, description="Marketing messages per person per window.")
    window_days: int = Field(default=7, ge=1, description="Length of the pressure window.")
    control_group_percent: int = Field(default=0, ge=0, le=100, description="Share held out to measure uplift.")

    def policy(self) -> PressurePolicy:
        return PressurePolicy(self.cap, timedelta(days=self.window_days), self.control_group_percent)


def bootstrap(settings: Settings, clock: Clock | None = None, policy: PressurePolicy | None = None) -> ServiceApp:
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    redis_client = make_redis(settings)
    service = ArbiterService(
        UnitOfWork(session_factory(engine)),
        PressureCounter(redis_client, settings.stream_prefix),
        clock or make_clock(settings),
        policy or ArbiterSettings().policy(),
    )
    return ServiceApp(
        name=NAME,
        register=lambda server: arbiter_pb2_grpc.add_ArbiterServiceServicer_to_server(ArbiterServicer(service), server),
        service_names=[arbiter_pb2.DESCRIPTOR.services_by_name["ArbiterService"].full_name],
        on_stop=[engine.dispose, redis_client.close],
    )


def main() -> None:
    run_service(NAME, bootstrap)
