"""The batch writer in a process of its own, beside the gRPC process that validates.

Validating (gRPC, protobuf, rules) and writing (identity resolution, records, COPY, waits on PostgreSQL)
each keep most of a core busy. In one process they share one interpreter lock, and the writer, which
is on the path of every event, queues for it behind the threads validating the next batches. Here the
gRPC process validates and sends each call's validated events to the writer process through a pipe
(`wire`); the writer process groups what arrives (group commit, as in-process: `GroupWriter`) and
sends back each call's outcomes.

Failures: if the writer process dies, the calls waiting on it are answered UNAVAILABLE (nothing of theirs
was acknowledged, and a retry is safe: events are de-duplicated) and the supervisor starts a new writer
process (`kit.supervisor`: after a growing delay if it keeps dying). A transaction's error is sent back and
raised in the calling thread as in-process.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from declic.kit.config import Settings
from declic.kit.database import UnitOfWork, make_engine, session_factory
from declic.kit.errors import DeclicError, Unavailable
from declic.kit.interpreter import tune_garbage_collector
from declic.kit.logs import configure_logging
from declic.kit.supervisor import Supervisor, name_this_process, stop_requested
from services.ingest.settings import IngestSettings
from services.ingest.writer import wire
from services.ingest.writer.calls import Outcome, Submission
from services.ingest.writer.group_commit import GroupWriter
from services.ingest.writer.transactions import TransactionWriter

log = logging.getLogger("declic.ingest")
_SPAWN = multiprocessing.get_context("spawn")
WRITER = "ingest-writer"
"""The writer process's name, in the supervisor and in ps."""
DRAIN_SECONDS = 30.0
"""On close, how long the calls already sent may take to be written and answered before the writer is stopped."""


@dataclass
class _Pipes:
    """The gRPC process's ends of one writer process's pipes, and the calls sent to it not answered yet."""

    requests: Connection
    pending: dict[int, futures.Future[list[Outcome]]] = field(default_factory=dict)


class WriterProcess:
    """Writes submissions in a child process that `supervisor` keeps running; same interface as `GroupWriter`."""

    def __init__(self, settings: Settings, ingest_settings: IngestSettings, stream: str, supervisor: Supervisor,
                 wake: Any = None, target: Callable[..., None] | None = None) -> None:
        """`wake`: set by the writer after each commit (the relay's wake-up). `target`: the child's main function
        (tests give one that fails)."""
        self._supervisor = supervisor
        self._target = target or writer_main
        self._arguments = (settings, ingest_settings, stream, wake)
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._pipes: _Pipes | None = None
        self._closed = False
        supervisor.add(WRITER, self._start)

    @property
    def restarts(self) -> int:
        return self._supervisor.restarts(WRITER)

    def _start(self) -> BaseProcess:
        """A new writer process and its pipes (the supervisor calls this at the start and after each death)."""
        requests_in, requests_out = _SPAWN.Pipe(duplex=False)
        answers_in, answers_out = _SPAWN.Pipe(duplex=False)
        process = _SPAWN.Process(target=self._target, name=WRITER, daemon=True,
                                 args=(requests_in, answers_out, *self._arguments))
        process.start()
        requests_in.close()
        answers_out.close()
        pipes = _Pipes(requests_out)
        with self._lock:
            self._pipes = pipes
        threading.Thread(target=self._read_answers, args=(answers_in, pipes), name="ingest-writer-answers",
                         daemon=True).start()
        return process

    def submit(self, submission: Submission) -> list[Outcome]:
        future: futures.Future[list[Outcome]] = futures.Future()
        with self._lock:
            if self._closed:
                raise Unavailable("ingest is stopping; retry on another replica")
            pipes = self._pipes
            if pipes is None:
                raise Unavailable("the ingest writer is restarting; retry")
            call_id = next(self._ids)
            pipes.pending[call_id] = future
            try:
                pipes.requests.send_bytes(wire.encode_submission(call_id, submission))
            except OSError:  # the writer died: its answer reader fails the waiting calls
                pipes.pending.pop(call_id, None)
                raise Unavailable("the ingest writer restarted; retry") from None
        return future.result()

    def _read_answers(self, answers: Connection, pipes: _Pipes) -> None:
        """Hand each answer to its call until the writer process is gone; then fail the calls left waiting."""
        while True:
            try:
                call_id, outcome = wire.decode_answer(answers.recv_bytes())
            except (EOFError, OSError):
                break
            future = pipes.pending.pop(call_id, None)
            if future is None:
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        answers.close()
        with self._lock:
            waiting, pipes.pending = pipes.pending, {}
            pipes.requests.close()
            if self._pipes is pipes:
                self._pipes = None  # calls meanwhile are answered UNAVAILABLE at once
        for future in waiting.values():
            future.set_exception(Unavailable("the ingest writer restarted before answering; retry (safe: events "
                                             "are de-duplicated)"))
        if waiting:
            log.warning("ingest writer gone: %d calls answered UNAVAILABLE", len(waiting))

    def close(self) -> None:
        """Take no more calls, let the writer write and answer those it received, then stop it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            sent = list(self._pipes.pending.values()) if self._pipes is not None else []
        futures.wait(sent, timeout=DRAIN_SECONDS)
        self._supervisor.stop(WRITER)


# --- the writer process -------------------------------------------------------------------------------------


def writer_main(requests: Connection, answers: Connection, settings: Settings, ingest_settings: IngestSettings,
                stream: str, wake: Any) -> None:
    """Write what arrives until asked to stop (SIGTERM) or the gRPC process is gone (its pipe ends)."""
    stop = stop_requested()
    name_this_process(WRITER)
    tune_garbage_collector()
    configure_logging(WRITER, settings.log_level)
    # Transactions follow each other on the same connection: no check of it before each (a round trip); one
    # found broken is replayed on a new one (TransactionWriter).
    engine = make_engine(settings, "ingest", pool_size=2, pre_ping=False)
    transactions = TransactionWriter(UnitOfWork(session_factory(engine)), ingest_settings, stream)
    writer = GroupWriter(transactions.write, on_written=wake.set if wake is not None else lambda: None)
    threading.Thread(target=_take_requests, args=(requests, answers, writer, stop), name="ingest-writer-requests",
                     daemon=True).start()
    stop.wait()
    writer.close(wait=DRAIN_SECONDS)
    answers.close()
    engine.dispose()


def _take_requests(requests: Connection, answers: Connection, writer: GroupWriter, stop: threading.Event) -> None:
    """Queue each submission for the writer and send its outcomes back once written; `stop` at the input's end."""
    send_lock = threading.Lock()

    def answer(call_id: int, future: futures.Future[list[Outcome]]) -> None:
        exc = future.exception()
        if exc is not None and not isinstance(exc, DeclicError):
            log.error("ingest write failed: %r", exc)
        data = wire.encode_failure(call_id, exc) if exc is not None else wire.encode_outcomes(call_id, future.result())
        with send_lock, contextlib.suppress(OSError):  # OSError: the gRPC process is gone
            answers.send_bytes(data)

    try:
        while True:
            try:
                data = requests.recv_bytes()
            except (EOFError, OSError):  # the gRPC process died
                return
            call_id, submission = wire.decode_submission(data)
            writer.submit_async(submission).add_done_callback(functools.partial(answer, call_id))
    finally:
        stop.set()
