"""The delivery loop: moves due firings forward, forever, whatever fails.

A peer that is down only delays a firing (it stays pending and is retried
with backoff); what each attempt decides is the service's and the domain's.
"""

from __future__ import annotations

import logging
import threading

from services.scenario.service import ScenarioService

log = logging.getLogger("declic.scenario.delivery")


class DeliveryWorker:
    """Polls for due firings; sleeps `idle_wait` seconds when there were none."""

    def __init__(self, service: ScenarioService, idle_wait: float = 0.2) -> None:
        self._service = service
        self._idle_wait = idle_wait

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self._service.deliver_due() == 0:
                    stop.wait(self._idle_wait)
            except Exception:  # noqa: BLE001 - the loop must outlive a failing database
                log.exception("delivery loop failed; retrying")
                stop.wait(1.0)
