"""Arbiter's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamConsumer, stream_key
from services.arbiter.domain.policy import Policy
from services.arbiter.domain.pressure import PressurePolicy
from services.arbiter.grpc_api import ArbiterServicer
from services.arbiter.intake import ArbiterIntake
from services.arbiter.people_service import PeopleService
from services.arbiter.policy_file import PolicySource
from services.arbiter.service import ArbiterService
from services.arbiter.settings import ArbiterSettings
from services.arbiter.storage.counters import PressureCounters

NAME = "arbiter"
CONSUMER_GROUP = "arbiter"


def _source(policy: Policy | PressurePolicy | PolicySource | None, settings: ArbiterSettings) -> PolicySource:
    if isinstance(policy, PolicySource):
        return policy
    if isinstance(policy, PressurePolicy):
        return PolicySource(policy.as_policy())
    if isinstance(policy, Policy):
        return PolicySource(policy)
    return settings.policy()


def bootstrap(settings: Settings, clock: Clock | None = None,
              policy: Policy | PressurePolicy | PolicySource | None = None, intake: bool = True) -> ServiceApp:
    clock = clock or make_clock(settings)
    # No ping per checkout: every statement runs inside `outages.guarded`, which replays it on a fresh connection
    # when the pooled one turns out broken.
    engine = make_engine(settings, NAME, pre_ping=False)
    send_lists_in_binary(engine)
    migrate(engine, NAME, settings)
    arbiter_settings = ArbiterSettings()
    # The decisions' own read and write, on connections of their own: asynchronous commit unless told otherwise
    # (ArbiterSettings.synchronous_decisions), so that a Decide does not wait for an fsync.
    decisions_engine = make_engine(settings, NAME, pre_ping=False, autocommit=True,
                                   synchronous_commit=arbiter_settings.synchronous_decisions)
    send_lists_in_binary(decisions_engine)
    redis_client = make_redis(settings)
    uow = UnitOfWork(session_factory(engine))
    # Plain reads in autocommit: each statement sees committed data, without BEGIN and ROLLBACK round trips.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    reads = UnitOfWork(session_factory(autocommit))
    counters = PressureCounters(redis_client, settings.stream_prefix)
    source = _source(policy, arbiter_settings)
    service = ArbiterService(uow, counters, clock, source, reads, decisions_engine)
    people = PeopleService(uow, counters, clock, source)
    workers = []
    if intake:
        handler = ArbiterIntake(uow, clock, source, counters)
        workers.append(StreamConsumer(redis_client, stream_key(settings.stream_prefix, "handoff"), CONSUMER_GROUP,
                                      handler))
    return ServiceApp(
        name=NAME,
        register=lambda server: arbiter_pb2_grpc.add_ArbiterServiceServicer_to_server(
            ArbiterServicer(service, people), server),
        service_names=[arbiter_pb2.DESCRIPTOR.services_by_name["ArbiterService"].full_name],
        workers=workers,
        on_stop=[engine.dispose, decisions_engine.dispose, redis_client.close],
    )


def main() -> None:
    run_service(NAME, bootstrap)
