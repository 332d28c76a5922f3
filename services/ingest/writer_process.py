"""The batch writer in a process of its own, beside the gRPC process that validates.

Validating (gRPC, protobuf, rules) and writing (identity resolution, records, COPY, waits on PostgreSQL)
each keep most of a core busy. In one process they share one interpreter lock, and the writer, which
is on the path of every event, queues for it behind the threads validating the next batches. Here the
gRPC process validates and sends each call's validated events to the writer process through a pipe;
the writer process groups what arrives (group commit, as in-process: `GroupWriter`) and sends back each
call's outcomes.

What crosses the pipe is what the writer needs, as plain tuples (pickled): the key, kind, identifiers,
event time, product ids, warnings and serialized payload of each valid event, and for a refused one only
its reasons. Outcomes come back the same way.

Failures: if the writer process dies, the calls waiting on it are answered UNAVAILABLE (nothing of theirs
was acknowledged, and a retry is safe: events are de-duplicated) and a new writer process starts.
A transaction's error is sent back and raised in the calling thread as in-process.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import multiprocessing
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from declic.common.v1 import event_pb2
from declic.kit.config import Settings
from declic.kit.errors import DeclicError, Unavailable
from services.ingest.batch import Outcome, Submission
from services.ingest.settings import IngestSettings
from services.ingest.validation import ValidatedEvent

log = logging.getLogger("declic.ingest")
_SPAWN = multiprocessing.get_context("spawn")
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_OK, _FAILED = 0, 1
QUICK_DEATH = 10.0
"""A writer process that dies within this many seconds of its start is restarted after a growing delay."""

# --- what crosses the pipe ----------------------------------------------------------------------------------


def encode_submission(call_id: int, submission: Submission) -> bytes:
    events = [
        (e.index, e.key, e.kind, e.identifiers, e.event_time, e.product_ids, e.warnings, e.payload) if not e.errors
        else (e.index, e.key, e.errors)
        for e in submission.events
    ]
    return pickle.dumps((call_id, submission.received_at, submission.trace_context, events), _PROTOCOL)


_NO_EVENT = event_pb2.Event()


def decode_submission(data: bytes) -> tuple[int, Submission]:
    call_id, received_at, trace_context, wire_events = pickle.loads(data)  # noqa: S301 - our own pipe
    events = []
    for wire in wire_events:
        if len(wire) == 3:
            index, key, errors = wire
            events.append(ValidatedEvent(index, _NO_EVENT, key, errors=errors))
            continue
        index, key, kind, identifiers, event_time, product_ids, warnings, payload = wire
        # The writer reads the message itself only for catalogue changes (rare): parsed again for those.
        event = event_pb2.Event.FromString(payload) if kind == "product_upsert" else _NO_EVENT
        events.append(ValidatedEvent(index, event, key, kind, identifiers, event_time, product_ids, [], warnings,
                                     payload))
    return call_id, Submission(events, received_at, trace_context)


def encode_outcomes(call_id: int, outcomes: list[Outcome]) -> bytes:
    wire = [(o.status, o.customer_id, o.new_customer, o.errors, o.warnings) for o in outcomes]
    return pickle.dumps((call_id, _OK, wire), _PROTOCOL)


def encode_failure(call_id: int, exc: BaseException) -> bytes:
    """A transaction's error: a DeclicError as it is (its status reaches the client), anything else as
    UNAVAILABLE with its kind (the writer logged it)."""
    if not isinstance(exc, DeclicError):
        exc = Unavailable(f"the ingest writer failed ({type(exc).__name__}); retry later")
    try:
        return pickle.dumps((call_id, _FAILED, exc), _PROTOCOL)
    except Exception:  # noqa: BLE001 - an error that does not pickle
        return pickle.dumps((call_id, _FAILED, Unavailable(str(exc))), _PROTOCOL)


def decode_answer(data: bytes) -> tuple[int, list[Outcome] | BaseException]:
    call_id, state, body = pickle.loads(data)  # noqa: S301 - our own pipe
    if state == _FAILED:
        return call_id, body
    return call_id, [Outcome(status, customer, new, errors, warnings) for status, customer, new, errors, warnings
                     in body]


# --- the gRPC process's side --------------------------------------------------------------------------------


class WriterProcess:
    """Writes submissions in a child process; same interface as `GroupWriter` (`submit`, `close`)."""

    def __init__(self, settings: Settings, ingest_settings: IngestSettings, stream: str, wake: Any = None,
                 target: Callable[..., None] | None = None) -> None:
        """`target`: the child's main function (tests give one that fails)."""
        self._target = target or _writer_main
        self.restarts = 0
        self._quick_deaths = 0
        self._started_at = 0.0
        self._settings = settings
        self._ingest_settings = ingest_settings
        self._stream = stream
        self._wake = wake
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._pending: dict[int, Future[list[Outcome]]] = {}
        self._closed = False
        self._process: Any = None
        self._requests: Any = None
        self._start()

    def _start(self) -> None:
        """(Re)start the child; called with `_lock` held, or from __init__."""
        requests_in, requests_out = _SPAWN.Pipe(duplex=False)
        answers_in, answers_out = _SPAWN.Pipe(duplex=False)
        self._started_at = time.monotonic()
        self._process = _SPAWN.Process(
            target=self._target, name="ingest-writer", daemon=True,
            args=(requests_in, answers_out, self._settings, self._ingest_settings, self._stream, self._wake))
        self._process.start()
        requests_in.close()
        answers_out.close()
        self._requests = requests_out
        threading.Thread(target=self._read_answers, args=(answers_in, self._process), name="ingest-writer-answers",
                         daemon=True).start()

    def submit(self, submission: Submission) -> list[Outcome]:
        future: Future[list[Outcome]] = Future()
        with self._lock:
            if self._closed:
                raise Unavailable("ingest is stopping; retry on another replica")
            call_id = next(self._ids)
            self._pending[call_id] = future
            try:
                self._requests.send_bytes(encode_submission(call_id, submission))
            except OSError:  # the child died: the answer reader restarts it and fails the waiting calls
                self._pending.pop(call_id, None)
                raise Unavailable("the ingest writer restarted; retry") from None
        return future.result()

    def _read_answers(self, answers: Any, process: Any) -> None:
        while True:
            try:
                call_id, outcome = decode_answer(answers.recv_bytes())
            except (EOFError, OSError):
                break
            future = self._pending.pop(call_id, None)
            if future is None:
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        answers.close()
        process.join(timeout=10)
        with self._lock:
            waiting, self._pending = self._pending, {}
            self._requests.close()  # calls meanwhile are answered UNAVAILABLE at once
            closed = self._closed
        for future in waiting.values():
            future.set_exception(Unavailable("the ingest writer restarted before answering; retry (safe: events "
                                             "are de-duplicated)"))
        if closed:
            return
        # A writer that dies again and again (say, at start) is restarted after 0.5, 1, 2 … 30 s, not in a loop.
        self._quick_deaths = self._quick_deaths + 1 if time.monotonic() - self._started_at < QUICK_DEATH else 0
        delay = min(0.5 * 2 ** (self._quick_deaths - 1), 30.0) if self._quick_deaths else 0.0
        log.warning("ingest writer process exited (code %s); %d calls answered UNAVAILABLE; restarting it%s",
                    process.exitcode, len(waiting), f" in {delay:.1f} s" if delay else "")
        time.sleep(delay)
        with self._lock:
            if not self._closed:
                self.restarts += 1
                self._start()

    def close(self) -> None:
        """Let the child write what it received, answer, and exit."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._requests.close()  # the child sees the end of its input
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()


# --- the writer process -------------------------------------------------------------------------------------


def _writer_main(requests: Any, answers: Any, settings: Settings, ingest_settings: IngestSettings, stream: str,
                 wake: Any) -> None:
    """Write what arrives until the gRPC process closes the pipe (or dies: the pipe ends the same way)."""
    from declic.kit.database import UnitOfWork, make_engine, session_factory
    from declic.kit.logs import configure_logging
    from services.ingest.background import name_this_process
    from services.ingest.group_commit import GroupWriter
    from services.ingest.main import tune_garbage_collector
    from services.ingest.service import TransactionWriter

    name_this_process("ingest-writer")
    tune_garbage_collector()
    configure_logging("ingest-writer", settings.log_level)
    # Transactions follow each other on the same connection: no check of it before each (a round trip); one
    # found broken is replayed on a new one (TransactionWriter).
    engine = make_engine(settings, "ingest", pool_size=2, pre_ping=False)
    transactions = TransactionWriter(UnitOfWork(session_factory(engine)), ingest_settings, stream)
    writer = GroupWriter(transactions.write, on_written=wake.set if wake is not None else lambda: None)
    send_lock = threading.Lock()

    def answer(call_id: int, future: Future[list[Outcome]]) -> None:
        exc = future.exception()
        if exc is not None and not isinstance(exc, DeclicError):
            log.error("ingest write failed: %r", exc)
        data = encode_failure(call_id, exc) if exc is not None else encode_outcomes(call_id, future.result())
        with send_lock, contextlib.suppress(OSError):  # OSError: the gRPC process is gone
            answers.send_bytes(data)

    while True:
        try:
            data = requests.recv_bytes()
        except (EOFError, OSError):  # closed by the gRPC process (stopping), or it died
            break
        call_id, submission = decode_submission(data)
        writer.submit_async(submission).add_done_callback(functools.partial(answer, call_id))
    writer.close(wait=30)
    answers.close()
    engine.dispose()
