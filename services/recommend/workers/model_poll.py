"""Keeps the replica's model and catalogue current: polls every few seconds, whatever fails."""

from __future__ import annotations

import logging
import threading

from services.recommend.serving import ModelHolder

log = logging.getLogger("declic.recommend.model_poll")


class ModelPollWorker:
    def __init__(self, holder: ModelHolder, every: float) -> None:
        self._holder = holder
        self._every = every

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._holder.refresh()
            except Exception:  # noqa: BLE001 - the loop must outlive a failing database
                log.exception("model poll failed; retrying")
            stop.wait(self._every)
