"""Arbiter's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from services.arbiter.domain.pressure import PressurePolicy
from services.arbiter.grpc_api import ArbiterServicer
from services.arbiter.service import ArbiterService
from services.arbiter.settings import ArbiterSettings
from services.arbiter.storage.counters import PressureCounters

NAME = "arbiter"


def bootstrap(settings: Settings, clock: Clock | None = None, policy: PressurePolicy | None = None) -> ServiceApp:
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    redis_client = make_redis(settings)
    service = ArbiterService(
        UnitOfWork(session_factory(engine)),
        PressureCounters(redis_client, settings.stream_prefix),
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
