"""Recommend's entrypoint."""

from __future__ import annotations

from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from declic.kit.stream import StreamConsumer, stream_key
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from services.recommend.grpc_api import RecommendServicer
from services.recommend.intake import HandoffIntake
from services.recommend.service import RecommendService

NAME = "recommend"


def bootstrap(settings: Settings, clock: Clock | None = None) -> ServiceApp:
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    uow = UnitOfWork(session_factory(engine))
    redis_client = make_redis(settings)
    intake = HandoffIntake(uow, clock or make_clock(settings))
    consumer = StreamConsumer(redis_client, stream_key(settings.stream_prefix, "handoff"), NAME, intake)
    return ServiceApp(
        name=NAME,
        register=lambda server: recommend_pb2_grpc.add_RecommendServiceServicer_to_server(
            RecommendServicer(RecommendService(uow)), server
        ),
        service_names=[recommend_pb2.DESCRIPTOR.services_by_name["RecommendService"].full_name],
        workers=[consumer],
        on_stop=[engine.dispose, redis_client.close],
    )


def main() -> None:
    run_service(NAME, bootstrap)
