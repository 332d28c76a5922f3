"""Ingest's background work — the outbox relay and the erasure consumer — in a child process.

At full speed the relay publishes one record per event and the consumer reads them all back;
in the API's process they would take a fifth of its only interpreter lock. In a child process
they use the other core. The parent starts the child, wakes its relay after each commit,
restarts it if it dies, and stops it on shutdown; the child also stops when its parent is gone.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

from declic.kit.clock import make_clock
from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, session_factory
from declic.kit.logs import configure_logging
from declic.kit.outbox import OutboxRelay
from declic.kit.redis_client import make_redis
from declic.kit.stream import StreamConsumer, stream_key
from declic.kit.wake import PipeWake
from services.ingest.erasure import CONSUMER_GROUP, ErasureHandler
from services.ingest.settings import IngestSettings
from services.ingest.storage import tables

log = logging.getLogger("declic.ingest")
_SPAWN = multiprocessing.get_context("spawn")


def workers(settings: Settings, ingest_settings: IngestSettings, engine: Any, redis: Any, clock: Any,
            wake: Any = None) -> list[Any]:
    """The relay and (unless turned off) the erasure consumer, on the given connections."""
    relay = OutboxRelay(engine, tables.outbox, redis, batch_size=ingest_settings.relay_batch_size,
                        framed=True, split_frames=not ingest_settings.handoff_frames)
    if wake is not None:
        relay.wake = wake
    found: list[Any] = [relay]
    if ingest_settings.consume_erasures:
        handler = ErasureHandler(UnitOfWork(session_factory(engine)), clock)
        privacy_stream = stream_key(settings.stream_prefix, "privacy")
        found.append(StreamConsumer(redis, privacy_stream, CONSUMER_GROUP, handler, batch_size=100, block_ms=500))
    return found


class ChildProcessWorkers:
    """A ServiceApp worker that keeps the background work running in a child process."""

    def __init__(self, settings: Settings, ingest_settings: IngestSettings) -> None:
        self._settings = settings
        self._ingest_settings = ingest_settings
        # Set by the writer process after each commit and by this process after a split; a pipe, not a
        # multiprocessing.Event, whose lock a writer killed while setting it would leave taken (kit.wake).
        self.wake = PipeWake()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            child_stop = _SPAWN.Event()
            process = _SPAWN.Process(target=_child, name="ingest-background", daemon=True,
                                     args=(self._settings, self._ingest_settings, child_stop, self.wake, os.getpid()))
            process.start()
            while not stop.wait(0.5) and process.is_alive():
                pass
            if not stop.is_set():
                log.warning("ingest background process exited (code %s); restarting it", process.exitcode)
            if process.is_alive():  # (a child killed inside child_stop.wait() may have left its lock taken)
                child_stop.set()
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


def name_this_process(name: str) -> None:
    """Show `name` (15 characters at most) for this process in ps, top and psutil (Linux; elsewhere nothing)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text(name[:15])


def _child(settings: Settings, ingest_settings: IngestSettings, stop: Any, wake: Any, parent: int) -> None:
    from services.ingest.main import tune_garbage_collector

    name_this_process("ingest-relay")
    tune_garbage_collector()
    if ingest_settings.relay_niceness:
        # Behind the calls being answered: the relay is not on their path, and catches up in idle time.
        os.nice(ingest_settings.relay_niceness)
    configure_logging("ingest-background", settings.log_level)
    # No check of the connection before each round (a round trip, a sixth of the relay's CPU): a round that
    # fails on a broken connection is retried by the relay on a new one.
    engine = make_engine(settings, "ingest", pool_size=2, pre_ping=False)
    redis = make_redis(settings)
    halt = threading.Event()
    threads = [threading.Thread(target=worker.run, args=(halt,), daemon=True)
               for worker in workers(settings, ingest_settings, engine, redis, make_clock(settings), wake)]
    for thread in threads:
        thread.start()
    while not stop.wait(1.0):
        if os.getppid() != parent:  # the parent died without stopping us
            break
    halt.set()
    for thread in threads:
        thread.join(timeout=5)
    engine.dispose()
