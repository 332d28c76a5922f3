"""The background loops outlive failures: scheduled retraining and model polling keep going."""

from __future__ import annotations

import threading
import time

from services.recommend.storage.models import ModelRecord
from services.recommend.workers.model_poll import ModelPollWorker
from services.recommend.workers.retrain import RetrainWorker


class Flaky:
    """Fails on the first call, then counts."""

    def __init__(self) -> None:
        self.calls = 0

    def train(self) -> ModelRecord:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database down")
        return ModelRecord("m1", None, None, None)  # type: ignore[arg-type]

    def due(self, period) -> bool:  # noqa: ANN001
        return True

    def refresh(self) -> bool:
        self.train()
        return True


def run_for(worker, seconds: float) -> None:  # noqa: ANN001
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_scheduled_training_runs_every_period_and_survives_a_failure() -> None:
    operations = Flaky()
    run_for(RetrainWorker(operations, period=0.05), 0.4)  # type: ignore[arg-type]
    assert operations.calls >= 3


def test_the_model_poll_survives_a_failure() -> None:
    holder = Flaky()
    run_for(ModelPollWorker(holder, every=0.05), 0.4)  # type: ignore[arg-type]
    assert holder.calls >= 3


def test_scheduled_training_skips_when_another_replica_trained_within_the_period() -> None:
    class Recent(Flaky):
        def due(self, period) -> bool:  # noqa: ANN001
            return False

    operations = Recent()
    run_for(RetrainWorker(operations, period=0.05), 0.3)  # type: ignore[arg-type]
    assert operations.calls == 0
