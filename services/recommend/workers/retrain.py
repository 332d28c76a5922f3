"""Scheduled retraining: every `period` seconds train a model; the guard decides whether it is published."""

from __future__ import annotations

import logging
import threading

from services.recommend.operations import ModelOperations

log = logging.getLogger("declic.recommend.retrain")


class RetrainWorker:
    def __init__(self, operations: ModelOperations, period: float) -> None:
        self._operations = operations
        self._period = period

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._period):
            try:
                record = self._operations.train()
                log.info("scheduled training: model %s %s %s", record.version, record.status, record.refusal)
            except Exception:  # noqa: BLE001 - the loop must outlive a failing training
                log.exception("scheduled training failed; next period")
