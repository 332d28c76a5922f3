"""Scenario's entrypoint: the hand-off consumer, the delivery worker and the gRPC API, wired."""

from __future__ import annotations

from declic.kit.channels import make_channel
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from declic.kit.stream import StreamConsumer, stream_key
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from services.scenario.clients import PEERS, PeerClients
from services.scenario.grpc_api import ScenarioServicer
from services.scenario.intake import HandoffIntake
from services.scenario.service import ScenarioService
from services.scenario.workers.delivery import DeliveryWorker

NAME = "scenario"


def bootstrap(settings: Settings, clock: Clock | None = None) -> ServiceApp:
    clock = clock or make_clock(settings)
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    uow = UnitOfWork(session_factory(engine))
    redis_client = make_redis(settings)
    channels = {peer: make_channel(settings.address(peer), settings.client_token) for peer in PEERS}
    service = ScenarioService(uow, clock, PeerClients(channels, timeout=settings.call_timeout_seconds))
    handoff = stream_key(settings.stream_prefix, "handoff")
    consumer = StreamConsumer(redis_client, handoff, NAME, HandoffIntake(uow, clock))
    return ServiceApp(
        name=NAME,
        register=lambda server: scenario_pb2_grpc.add_ScenarioServiceServicer_to_server(
            ScenarioServicer(service), server
        ),
        service_names=[scenario_pb2.DESCRIPTOR.services_by_name["ScenarioService"].full_name],
        workers=[consumer, DeliveryWorker(service)],
        on_stop=[*(c.close for c in channels.values()), engine.dispose, redis_client.close],
    )


def main() -> None:
    run_service(NAME, bootstrap)
