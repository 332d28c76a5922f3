"""Group commit: one thread writes the batches of concurrent calls together, in one transaction.

Calls validate their events in their own threads, then queue them; the writer takes everything
queued (up to a bound) and applies it in one transaction. Under load, batches pile up while a
transaction runs and the next one carries them all: the fixed costs of a transaction (round trips,
the writers' lock, the commit) are paid once for many calls. Idle, a call is written at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from services.ingest.writer.calls import Outcome, Submission

log = logging.getLogger("declic.ingest")


@dataclass
class _Pending:
    submission: Submission
    done: Future[list[Outcome]] = field(default_factory=Future)


_STOP = object()


class GroupWriter:
    def __init__(self, write: Callable[[list[Submission]], list[list[Outcome]]], max_events: int = 2000,
                 on_written: Callable[[], None] = lambda: None) -> None:
        self._write = write
        self._max_events = max_events
        self._on_written = on_written
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, submission: Submission) -> list[Outcome]:
        """Write `submission` (with whatever else is queued); its outcomes, or the error of its transaction."""
        return self.submit_async(submission).result()

    def submit_async(self, submission: Submission) -> Future[list[Outcome]]:
        """Queue `submission`; the future of its outcomes (resolved by the writer thread)."""
        pending = _Pending(submission)
        self._ensure_started()
        self._queue.put(pending)
        return pending.done

    def close(self, wait: float = 0) -> None:
        """Stop the writer once what is queued is written (waiting up to `wait` seconds for that)."""
        if self._thread is not None:
            self._queue.put(_STOP)
            if wait:
                self._thread.join(wait)

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            size = len(first.submission.events)  # type: ignore[attr-defined]
            while size < self._max_events:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is _STOP:
                    self._queue.put(_STOP)
                    break
                group.append(following)
                size += len(following.submission.events)  # type: ignore[attr-defined]
            self._write_group(group)  # type: ignore[arg-type]

    def _write_group(self, group: list[_Pending]) -> None:
        try:
            results = self._write([pending.submission for pending in group])
        except Exception as exc:  # noqa: BLE001 - handed to the callers
            if len(group) == 1:
                group[0].done.set_exception(exc)
                return
            # One call's events broke the transaction: write each call alone, so only that one fails.
            log.warning("group of %d batches failed (%s); writing them one by one", len(group), type(exc).__name__)
            for pending in group:
                self._write_group([pending])
            return
        self._on_written()
        for pending, outcomes in zip(group, results, strict=True):
            pending.done.set_result(outcomes)
