"""Profile's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.outbox import OutboxRelay
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamConsumer, stream_key
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from services.profile.domain.rules import ProfileRules
from services.profile.grpc_api import ProfileServicer
from services.profile.intake.consumer import ProfileIntake
from services.profile.service import ProfileService
from services.profile.settings import ProfileSettings
from services.profile.storage.tables import outbox
from services.profile.workers.relay import PromptRelay

NAME = "profile"
CONSUMER_GROUP = "profile"
INTAKE_BATCH = 2000
"""Hand-off records applied in one transaction: a batch costs a few dozen statements whatever its size (set-based,
in waves), so larger batches cost less per record (CPU per record, 40,000 events through ingest: 140–170 µs in
batches of 1,000, 115–135 in batches of 2,000); two thousand take well under the stream's claim time."""


def bootstrap(settings: Settings, clock: Clock | None = None, rules: ProfileRules | None = None) -> ServiceApp:
    clock = clock or make_clock(settings)
    rules = rules or ProfileSettings().rules()
    engine = make_engine(settings, NAME)
    send_lists_in_binary(engine)
    migrate(engine, NAME, settings)
    uow = UnitOfWork(session_factory(engine))
    # Lookups are a few SELECTs: run them in autocommit, sparing the BEGIN and ROLLBACK round trips
    # (each statement sees committed data).
    reads = UnitOfWork(session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")))
    redis = make_redis(settings)
    handoff = stream_key(settings.stream_prefix, "handoff")
    # Erasures are rare: the relay polls slowly and is woken right after one is committed, so lookups
    # do not share the CPU with an idle poll loop.
    relay = OutboxRelay(engine, outbox, redis, idle_wait=2.0)
    service = ProfileService(uow, clock, rules, default_region=settings.default_region, handoff_stream=handoff,
                             privacy_stream=stream_key(settings.stream_prefix, "privacy"), reads=reads,
                             on_outbox_written=relay.wake.set)
    intake = ProfileIntake(uow, clock, rules)
    consumer = StreamConsumer(redis, handoff, CONSUMER_GROUP, intake, batch_size=INTAKE_BATCH)
    return ServiceApp(
        name=NAME,
        register=lambda server: profile_pb2_grpc.add_ProfileServiceServicer_to_server(
            ProfileServicer(service), server
        ),
        service_names=[profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name],
        workers=[consumer, PromptRelay(relay)],
        on_stop=[engine.dispose],
    )


def main() -> None:
    run_service(NAME, bootstrap)
