"""Recommend's entrypoint."""

from __future__ import annotations

from datetime import timedelta

from threadpoolctl import threadpool_limits

from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, Worker, run_service
from declic.kit.stream import StreamConsumer, stream_key
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc
from declic.recommending.training import TrainingOptions
from services.recommend.grpc_api import RecommendServicer
from services.recommend.intake import HandoffIntake
from services.recommend.operations import ModelOperations
from services.recommend.service import RecommendService
from services.recommend.serving import ModelHolder
from services.recommend.settings import RecommendSettings
from services.recommend.storage.reads import AutocommitReads
from services.recommend.workers.model_poll import ModelPollWorker
from services.recommend.workers.retrain import RetrainWorker

NAME = "recommend"


def bootstrap(settings: Settings, clock: Clock | None = None, recommend: RecommendSettings | None = None,
              options: TrainingOptions | None = None) -> ServiceApp:
    # One BLAS thread: a Recommend is one 50,000 × 65 product, which threads only slow down (waking them cost
    # 8-10 ms at p99 on a busy 2-core machine, against 0.3 ms for the product); gRPC already answers in parallel.
    threadpool_limits(1, user_api="blas")
    clock = clock or make_clock(settings)
    recommend = recommend or RecommendSettings()
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    uow = UnitOfWork(session_factory(engine))
    read_engine = make_engine(settings, NAME, pre_ping=False)
    redis_client = make_redis(settings)
    intake = HandoffIntake(uow, clock)
    consumer = StreamConsumer(redis_client, stream_key(settings.stream_prefix, "handoff"), NAME, intake)
    holder = ModelHolder(uow)
    operations = ModelOperations(
        uow, clock, options or TrainingOptions(epochs=recommend.epochs, no_components=recommend.components),
        timedelta(days=recommend.holdout_days))
    workers: list[Worker] = [consumer, ModelPollWorker(holder, recommend.poll_seconds)]
    if recommend.retrain_hours:
        workers.append(RetrainWorker(operations, recommend.retrain_hours * 3600))
    return ServiceApp(
        name=NAME,
        register=lambda server: recommend_pb2_grpc.add_RecommendServiceServicer_to_server(
            RecommendServicer(RecommendService(uow, holder, clock, AutocommitReads(read_engine)),
                              operations), server
        ),
        service_names=[recommend_pb2.DESCRIPTOR.services_by_name["RecommendService"].full_name],
        workers=workers,
        on_stop=[engine.dispose, read_engine.dispose, redis_client.close],
    )


def main() -> None:
    run_service(NAME, bootstrap)
