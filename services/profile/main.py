"""Profile's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from declic.kit.clock import Clock, SystemClock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.outbox import OutboxRelay
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from declic.kit.stream import StreamConsumer, stream_key
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from services.profile.config import ProfileSettings
from services.profile.domain.rules import ProfileRules
from services.profile.grpc_api import ProfileServicer
from services.profile.service import ProfileService
from services.profile.storage.tables import outbox
from services.profile.updates import ProfileUpdater

NAME = "profile"
CONSUMER_GROUP = "profile"


def bootstrap(settings: Settings, clock: Clock | None = None, rules: ProfileRules | None = None) -> ServiceApp:
    clock = clock or SystemClock()
    rules = rules or ProfileSettings().rules()
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    uow = UnitOfWork(session_factory(engine))
    redis = make_redis(settings)
    handoff = stream_key(settings.stream_prefix, "handoff")
    service = ProfileService(uow, clock, rules, default_region=settings.default_region, handoff_stream=handoff)
    updater = ProfileUpdater(uow, clock, rules)
    consumer = StreamConsumer(redis, handoff, CONSUMER_GROUP, updater.handle_payload)
    relay = OutboxRelay(engine, outbox, redis)
    return ServiceApp(
        name=NAME,
        register=lambda server: profile_pb2_grpc.add_ProfileServiceServicer_to_server(
            ProfileServicer(service), server
        ),
        service_names=[profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name],
        workers=[consumer, relay],
        on_stop=[engine.dispose],
    )


def main() -> None:
    run_service(NAME, bootstrap)
