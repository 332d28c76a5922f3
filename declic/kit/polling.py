"""A background loop that polls for work: runs a step until it finds none, then sleeps a little; a step that fails
(a database or a peer down) is logged and tried again a second later, so the loop outlives any outage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("declic.polling")


class PollingWorker:
    """`step()` returns how much it did; 0 means nothing was due, and the loop then waits `idle_wait` seconds."""

    def __init__(self, name: str, step: Callable[[], int], idle_wait: float = 0.2, failure_wait: float = 1.0) -> None:
        self.name = name
        self._step = step
        self._idle_wait = idle_wait
        self._failure_wait = failure_wait

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self._step() == 0:
                    stop.wait(self._idle_wait)
            except Exception:  # noqa: BLE001 - the loop must outlive a failing database or peer
                log.exception("%s failed; retrying", self.name)
                stop.wait(self._failure_wait)
