"""Scheduled retraining: once per `period` across the replicas (each looks every few minutes whether any of them
trained lately); the guard decides whether the new model is published."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from services.recommend.operations import ModelOperations

log = logging.getLogger("declic.recommend.retrain")
LOOK_EVERY = 300.0
"""Seconds between looks (at most: a shorter period is looked at every period)."""


class RetrainWorker:
    def __init__(self, operations: ModelOperations, period: float) -> None:
        self._operations = operations
        self._period = period

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(min(self._period, LOOK_EVERY)):
            try:
                if self._operations.due(timedelta(seconds=self._period)):
                    record = self._operations.train()
                    log.info("scheduled training: model %s %s %s", record.version, record.status, record.refusal)
            except Exception:  # noqa: BLE001 - the loop must outlive a failing training
                log.exception("scheduled training failed; next period")
