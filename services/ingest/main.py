"""Ingest's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

from typing import Any

from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.interpreter import tune_garbage_collector
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, Worker, run_service
from declic.kit.stream import stream_key
from declic.kit.supervisor import Supervisor
from services.ingest.grpc_api import IngestServicer
from services.ingest.service import IngestService, Writer
from services.ingest.settings import IngestSettings
from services.ingest.tuning import share_the_interpreter_lock
from services.ingest.workers.relay import RelayProcess, background_workers
from services.ingest.writer.group_commit import GroupWriter
from services.ingest.writer.process import WriterProcess
from services.ingest.writer.transactions import TransactionWriter

NAME = "ingest"


def bootstrap(settings: Settings, clock: Clock | None = None, ingest_settings: IngestSettings | None = None,
              workers: bool = True) -> ServiceApp:
    """Wire ingest. `workers=False` leaves out the outbox relay and the privacy intake (tests of their absence).

    The relay and the intake run in a child process (DECLIC_INGEST_BACKGROUND_PROCESS), and the batch writer
    in another (DECLIC_INGEST_WRITER_PROCESS), both kept running by one supervisor, except when a clock is
    given (tests: a child process cannot share a manual clock) — then they are threads of this process.
    """
    ingest_settings = ingest_settings or IngestSettings()
    in_processes = clock is None
    clock = clock or make_clock(settings)
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    redis = make_redis(settings)
    uow = UnitOfWork(session_factory(engine))
    stream = stream_key(settings.stream_prefix, "handoff")
    supervisor = Supervisor()
    background: list[Worker]
    relay_wake: Any = None  # what the writer process sets after a commit: a pipe to the relay's process, else none
    if in_processes and ingest_settings.background_process:
        relay = RelayProcess(settings, ingest_settings, supervisor)
        wake, relay_wake, background = relay.wake, relay.wake, [relay]
    else:
        background = background_workers(settings, ingest_settings, engine, redis, clock)
        wake = background[0].wake  # type: ignore[attr-defined] # the relay's threading.Event
    writer: Writer
    if in_processes and ingest_settings.writer_process:
        writer = WriterProcess(settings, ingest_settings, stream, supervisor, relay_wake)  # none: the relay polls
    else:
        writer = GroupWriter(TransactionWriter(uow, ingest_settings, stream).write, on_written=wake.set)
        if in_processes:
            share_the_interpreter_lock()  # the writer is a thread of this process
    service = IngestService(uow, clock, stream, settings.default_region, ingest_settings, writer, on_commit=wake.set)
    return ServiceApp(
        name=NAME,
        register=lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(IngestServicer(service), server),
        service_names=[ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name],
        workers=background if workers else [],
        on_stop=[service.close, supervisor.stop_all, engine.dispose, redis.close],
    )


def main() -> None:
    tune_garbage_collector()
    run_service(NAME, bootstrap)
