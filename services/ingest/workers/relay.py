"""Ingest's background work — the outbox relay and the privacy intake — in a child process.

At full speed the relay publishes one record per event; in the API's process it would take a fifth of its
only interpreter lock. In a child process it uses another core. The parent starts the child through the
supervisor (which restarts it if it dies) and wakes its relay after each commit; the child stops on SIGTERM,
or when its parent is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.process import BaseProcess
from typing import Any

from declic.kit.clock import Clock, make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, session_factory
from declic.kit.interpreter import tune_garbage_collector
from declic.kit.logs import configure_logging
from declic.kit.outbox import OutboxRelay
from declic.kit.redis_client import make_redis
from declic.kit.stream import StreamConsumer, stream_key
from declic.kit.supervisor import Supervisor, name_this_process, stop_requested, wait_for_stop
from declic.kit.wake import PipeWake
from services.ingest.intake import CONSUMER_GROUP, HandoffIntake
from services.ingest.settings import IngestSettings
from services.ingest.storage import tables

_SPAWN = multiprocessing.get_context("spawn")
RELAY = "ingest-relay"
"""The relay process's name, in the supervisor and in ps."""


def background_workers(settings: Settings, ingest_settings: IngestSettings, engine: Any, redis: Any, clock: Clock,
            wake: Any = None) -> list[Any]:
    """The relay and (unless turned off) the privacy intake, on the given connections."""
    relay = OutboxRelay(engine, tables.outbox, redis, batch_size=ingest_settings.relay_batch_size,
                        framed=True, split_frames=not ingest_settings.handoff_frames)
    if wake is not None:
        relay.wake = wake
    found: list[Any] = [relay]
    if ingest_settings.consume_erasures:
        intake = HandoffIntake(UnitOfWork(session_factory(engine)), clock)
        privacy_stream = stream_key(settings.stream_prefix, "privacy")
        found.append(StreamConsumer(redis, privacy_stream, CONSUMER_GROUP, intake, batch_size=100, block_ms=500))
    return found


class RelayProcess:
    """A ServiceApp worker: the background work in a child process that `supervisor` keeps running while the
    service runs."""

    def __init__(self, settings: Settings, ingest_settings: IngestSettings, supervisor: Supervisor) -> None:
        self._settings = settings
        self._ingest_settings = ingest_settings
        self._supervisor = supervisor
        # Set by the writer process after each commit and by this process after a split; a pipe, not a
        # multiprocessing.Event, whose lock a writer killed while setting it would leave taken (kit.wake).
        self.wake = PipeWake()

    def run(self, stop: threading.Event) -> None:
        self._supervisor.add(RELAY, self._start)
        stop.wait()
        self._supervisor.stop(RELAY)

    def _start(self) -> BaseProcess:
        process = _SPAWN.Process(target=relay_main, name=RELAY, daemon=True,
                                 args=(self._settings, self._ingest_settings, self.wake, os.getpid()))
        process.start()
        return process


def relay_main(settings: Settings, ingest_settings: IngestSettings, wake: Any, parent: int) -> None:
    """The child process: the background workers on its own connections, until SIGTERM or its parent is gone."""
    stop = stop_requested()
    name_this_process(RELAY)
    tune_garbage_collector()
    if ingest_settings.relay_niceness:
        # Behind the calls being answered: the relay is not on their path, and catches up in idle time.
        os.nice(ingest_settings.relay_niceness)
    configure_logging(RELAY, settings.log_level)
    # No check of the connection before each round (a round trip, a sixth of the relay's CPU): a round that
    # fails on a broken connection is retried by the relay on a new one.
    engine = make_engine(settings, "ingest", pool_size=2, pre_ping=False)
    redis = make_redis(settings)
    threads = [threading.Thread(target=worker.run, args=(stop,), daemon=True)
               for worker in background_workers(settings, ingest_settings, engine, redis, make_clock(settings), wake)]
    for thread in threads:
        thread.start()
    wait_for_stop(stop, parent)
    stop.set()  # (when the parent is gone)
    for thread in threads:
        thread.join(timeout=5)
    engine.dispose()
