"""Ingest's entrypoint: `bootstrap()` wires everything; tests override its arguments."""

from __future__ import annotations

import gc
import sys

from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, migrate, session_factory
from declic.kit.redis_client import make_redis
from declic.kit.server import ServiceApp, Worker, run_service
from declic.kit.stream import stream_key
from services.ingest import background
from services.ingest.grpc_api import IngestServicer
from services.ingest.service import IngestService
from services.ingest.settings import IngestSettings
from services.ingest.writer_process import WriterProcess

NAME = "ingest"


def bootstrap(settings: Settings, clock: Clock | None = None, ingest_settings: IngestSettings | None = None,
              workers: bool = True) -> ServiceApp:
    """Wire ingest. `workers=False` leaves out the outbox relay and the erasure consumer (tests of their absence).

    The relay and the consumer run in a child process (DECLIC_INGEST_BACKGROUND_PROCESS), and the batch writer
    in another (DECLIC_INGEST_WRITER_PROCESS), except when a clock is given (tests: a child process cannot share
    a manual clock) — then they are threads of this process.
    """
    ingest_settings = ingest_settings or IngestSettings()
    clock_given = clock is not None
    in_child = ingest_settings.background_process and not clock_given
    clock = clock or make_clock(settings)
    engine = make_engine(settings, NAME)
    migrate(engine, NAME, settings)
    redis = make_redis(settings)
    background_workers: list[Worker] = []
    if in_child:
        child = background.ChildProcessWorkers(settings, ingest_settings)
        wake = child.wake
        background_workers.append(child)
    else:
        threads = background.workers(settings, ingest_settings, engine, redis, clock)
        wake = threads[0].wake
        background_workers.extend(threads)
    stream = stream_key(settings.stream_prefix, "handoff")
    writer = None
    if ingest_settings.writer_process and not clock_given:
        # The relay's wake-up crosses processes only when the relay is in a child process; else it polls.
        writer = WriterProcess(settings, ingest_settings, stream, wake if in_child else None)
    elif not clock_given:
        share_the_interpreter_lock()  # the writer is a thread of this process
    service = IngestService(UnitOfWork(session_factory(engine)), clock, stream, settings.default_region,
                            ingest_settings, on_commit=wake.set, writer=writer)
    return ServiceApp(
        name=NAME,
        register=lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(IngestServicer(service), server),
        service_names=[ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name],
        workers=background_workers if workers else [],
        on_stop=[service.close, engine.dispose, redis.close],
    )


def tune_garbage_collector() -> None:
    """Collect cycles after 50,000 net allocations instead of 700.

    Each batch allocates tens of thousands of short-lived, acyclic objects (freed by reference counting),
    so the default threshold ran a collection every few events, and the older generations, which hold the
    normalisation caches, were scanned again and again: a fifth of the process's CPU. Cycles are still
    collected, just in larger rounds.
    """
    gc.set_threshold(50_000, 20, 100)


def share_the_interpreter_lock() -> None:
    """Hand the interpreter lock over every 0.5 ms instead of 5 ms, when the writer is a thread of the gRPC
    process (DECLIC_INGEST_WRITER_PROCESS=false).

    The writer thread waits on PostgreSQL a dozen times per transaction, and each time must take the
    lock back from a thread validating the next batch: with the default interval it often waited
    milliseconds for it, with the database idle (measured: 14,000 → 17,000 events/s). With the writer in
    its own process, the default interval is better: 3 % and 8 % more events/s (medians of alternated
    rounds, benchmarks.ingest_ab), the lock handed over less often for nothing.
    """
    sys.setswitchinterval(0.0005)


def main() -> None:
    tune_garbage_collector()
    run_service(NAME, bootstrap)
