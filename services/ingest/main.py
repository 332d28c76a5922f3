"""Ingest's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.outbox import OutboxRelay
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, Worker, run_service
from declic.kit.stream import StreamConsumer, stream_key
from services.ingest.erasure import CONSUMER_GROUP, ErasureHandler
from services.ingest.grpc_api import IngestServicer
from services.ingest.service import IngestService
from services.ingest.settings import IngestSettings
from services.ingest.storage import tables

NAME = "ingest"


def bootstrap(settings: Settings, clock: Clock | None = None, ingest_settings: IngestSettings | None = None,
              workers: bool = True) -> ServiceApp:
    """Wire ingest. `workers=False` leaves out the outbox relay and the erasure consumer (tests of their absence)."""
    clock = clock or make_clock(settings)
    ingest_settings = ingest_settings or IngestSettings()
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    redis = make_redis(settings)
    handoff_stream = stream_key(settings.stream_prefix, "handoff")
    relay = OutboxRelay(engine, tables.outbox, redis, batch_size=ingest_settings.relay_batch_size)
    uow = UnitOfWork(session_factory(engine))
    service = IngestService(uow, clock, handoff_stream, settings.default_region, ingest_settings,
                            on_commit=relay.wake.set)
    background: list[Worker] = []
    if workers:
        background.append(relay)
        if ingest_settings.consume_erasures:
            background.append(StreamConsumer(redis, handoff_stream, CONSUMER_GROUP, ErasureHandler(uow, clock),
                                             batch_size=500, block_ms=200))
    return ServiceApp(
        name=NAME,
        register=lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(IngestServicer(service), server),
        service_names=[ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name],
        workers=background,
        on_stop=[service.close, engine.dispose, redis.close],
    )


def main() -> None:
    run_service(NAME, bootstrap)
