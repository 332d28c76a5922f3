"""Requests whose bytes do not decode: answered INVALID_ARGUMENT, logged once per burst.

grpcio calls a method's request deserializer before any handler, and when it raises, answers INTERNAL
("Exception deserializing request!") and logs a traceback, once per request: a client sending garbage (or a
fuzzer) would flood the logs. `tolerant` wraps the deserializer so a failure becomes the `UNDECODABLE` marker,
which the server's handler wrapper answers as INVALID_ARGUMENT; `BurstLog` turns a burst of them into one
WARNING line now and one count per window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

UNDECODABLE = object()
"""What a tolerant deserializer returns for bytes that are not a valid request."""

WINDOW_SECONDS = 10.0


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """`deserializer`, except that a failure (truncated or random bytes, non-UTF-8 strings) returns UNDECODABLE."""
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # noqa: BLE001 - any failure to decode is the client's; it is counted, not raised
            return UNDECODABLE

    return decode


class BurstLog:
    """Counts undecodable requests per method: the first of a burst is logged at once, the others as one
    count per `window` seconds ("ingest: 2,311 undecodable requests to IngestBatch in the last 10 s")."""

    def __init__(self, service: str, logger: logging.Logger, window: float = WINDOW_SECONDS) -> None:
        self._service = service
        self._log = logger
        self._window = window
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        """Per method with an open window: requests counted since the window opened."""

    def note(self, method: str) -> None:
        """Count one undecodable request to `method` (its full name, "/pkg.Service/Method")."""
        with self._lock:
            if method in self._pending:
                self._pending[method] += 1
                return
            self._pending[method] = 0
        self._log.warning("%s: undecodable request to %s (answered INVALID_ARGUMENT; more are counted for %g s)",
                          self._service, _short(method), self._window)
        self._schedule(method)

    def _schedule(self, method: str) -> None:
        timer = threading.Timer(self._window, self._flush, args=(method,))
        timer.daemon = True
        timer.start()

    def _flush(self, method: str) -> None:
        with self._lock:
            count = self._pending.pop(method, 0)
            if count:
                self._pending[method] = 0  # the burst goes on: keep counting for another window
        if count:
            self._log.warning("%s: %s undecodable request%s to %s in the last %g s", self._service, f"{count:,}",
                              "" if count == 1 else "s", _short(method), self._window)
            self._schedule(method)


def _short(method: str) -> str:
    """"/declic.ingest.v1.IngestService/IngestBatch" → "IngestBatch"."""
    return method.rsplit("/", 1)[-1]
