"""Scenario's entrypoint: the hand-off consumer, the journey, segment and delivery workers and the gRPC API, wired."""

from __future__ import annotations

import logging

from declic.kit.channels import make_channel
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.interpreter import tune_garbage_collector
from declic.kit.polling import PollingWorker
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, run_service
from declic.kit.sql_sets import send_lists_in_binary
from declic.kit.stream import StreamConsumer, stream_key
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.scenarios.loader import load_catalogue
from services.scenario.catalogue_service import CatalogueService
from services.scenario.clients import PEERS, PeerClients
from services.scenario.domain.matching import Matcher
from services.scenario.engine import JourneyEngine
from services.scenario.grpc_api import ScenarioServicer
from services.scenario.intake import HandoffIntake
from services.scenario.segments import SegmentRunner
from services.scenario.service import ScenarioService
from services.scenario.settings import ScenarioSettings
from services.scenario.workers.journeys import SegmentWorker

NAME = "scenario"
log = logging.getLogger("declic.scenario")


def bootstrap(settings: Settings, clock: Clock | None = None, own: ScenarioSettings | None = None) -> ServiceApp:
    clock = clock or make_clock(settings)
    own = own or ScenarioSettings()
    catalogue = load_catalogue(own.scenarios_dir)
    for problems in catalogue.problems.values():
        for problem in problems:
            log.error("scenario file not loaded: %s", problem)
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(own.scenarios_dir.glob("*.y*ml"))}
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    send_lists_in_binary(engine)  # journeys and firings are written a batch at a time, as arrays
    uow = UnitOfWork(session_factory(engine))
    redis_client = make_redis(settings)
    channels = {peer: make_channel(settings.address(peer), settings.client_token) for peer in PEERS}
    peers = PeerClients(channels, timeout=settings.call_timeout_seconds)
    journeys = JourneyEngine(uow, clock, Matcher(catalogue.scenarios.values()), peers)
    segments = SegmentRunner(uow, clock, peers, own.segment_batch)
    service = ScenarioService(uow, clock, peers)
    catalogue_service = CatalogueService(uow, clock, catalogue, journeys, segments, sources)
    handoff = stream_key(settings.stream_prefix, "handoff")
    consumer = StreamConsumer(redis_client, handoff, NAME, HandoffIntake(uow, clock, journeys),
                              batch_size=own.handoff_batch)
    return ServiceApp(
        name=NAME,
        register=lambda server: scenario_pb2_grpc.add_ScenarioServiceServicer_to_server(
            ScenarioServicer(service, catalogue_service), server
        ),
        service_names=[scenario_pb2.DESCRIPTOR.services_by_name["ScenarioService"].full_name],
        # The journey loop takes due steps and timers, the delivery loop due firings (profile → arbiter → dispatch).
        workers=[consumer, PollingWorker("journey loop", lambda: journeys.advance_due(own.due_batch)),
                 PollingWorker("delivery loop", service.deliver_due),
                 SegmentWorker(segments, journeys, own.segment_check_seconds)],
        on_stop=[*(c.close for c in channels.values()), engine.dispose, redis_client.close],
    )


def main() -> None:
    tune_garbage_collector()
    run_service(NAME, bootstrap)  # (which also freezes what start-up built out of the collector's passes)
