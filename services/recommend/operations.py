"""Training as an operation: train on the held-out split, let the guard judge, then fit on everything and
publish; list and roll back versions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.errors import FailedPrecondition, NotFound
from declic.recommending import baselines
from declic.recommending.artifact import ModelArtifact
from declic.recommending.datasets import Split, time_split
from declic.recommending.evaluation import artifact_scorer, frame
from declic.recommending.interactions import Corpus
from declic.recommending.metrics import evaluate
from declic.recommending.training import TrainingOptions, train
from services.recommend.domain.guard import judge
from services.recommend.storage.catalogue import CatalogueRepository
from services.recommend.storage.interactions import InteractionRepository
from services.recommend.storage.models import ModelRecord, ModelRepository

MIN_COMPARED_CUSTOMERS = 20
"""Customers with a new purchase the current model never saw, below which it is not compared (too noisy)."""
Progress = Callable[[str, int, int], None]
"""(phase, epochs done, epochs in the phase)."""


class ModelOperations:
    def __init__(self, uow: UnitOfWork, clock: Clock, options: TrainingOptions, holdout: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._options = options
        self._holdout = holdout
        self._training = threading.Lock()

    @property
    def options(self) -> TrainingOptions:
        return self._options

    def train(self, options: TrainingOptions | None = None, on_progress: Progress | None = None) -> ModelRecord:
        """Train, judge and (if the guard agrees) publish; the record says which, and why not."""
        options = options or self._options
        if not self._training.acquire(blocking=False):
            raise FailedPrecondition("a training is already running in this replica")
        try:
            with self._uow.begin() as session:  # held while training: one training at a time across replicas
                if not ModelRepository(session).try_training_lock():
                    raise FailedPrecondition("another replica is training a model now")
                return self._train(options, on_progress or (lambda *_: None))
        finally:
            self._training.release()

    def _train(self, options: TrainingOptions, on_progress: Progress) -> ModelRecord:
        now = self._clock.now()
        corpus = self._corpus(now)
        if not corpus.interactions:
            raise FailedPrecondition("nothing to learn from: no interactions yet")
        split = self._split(corpus, now)
        candidate = train(split.train, split.cut, options, lambda done, total: on_progress("holdout", done, total))
        data = frame(split)
        scores = evaluate(artifact_scorer(candidate, data), data.bought, data.truth)
        popularity = evaluate(baselines.popularity(data.bought), data.bought, data.truth)
        with self._uow.begin() as session:
            models = ModelRepository(session)
            current_version = models.current_version()
            current_record = models.record(current_version) if current_version else None
            current_bytes = models.artifact(current_version) if current_version else None
        metrics = {**scores.as_dict(), "popularity_precision_at_10": popularity.precision,
                   "holdout_users": float(scores.users)}
        against = None
        if current_record and current_bytes:
            against = self._against_current(corpus, candidate, ModelArtifact.from_bytes(current_bytes),
                                            max(split.cut, current_record.data_to or split.cut))
            metrics["current_compared_users"] = float(against[2]) if against else 0.0
        if against:
            metrics["current_window_precision_at_10"], metrics["current_precision_at_10"] = against[0], against[1]
        verdict = judge(scores.precision, popularity.precision, against[:2] if against else None, current_version)
        record = ModelRecord(
            version=f"m{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", trained_at=now,
            data_from=min(i.at for i in corpus.interactions), data_to=now, metrics=metrics,
            status="published" if verdict.publish else "refused", refusal=verdict.reason,
        )
        artifact = None
        if verdict.publish:
            final = train(corpus, now, options, lambda done, total: on_progress("final", done, total))
            record = replace(record, users=len(final.user_ids), products=len(final.item_ids))
            artifact = final.to_bytes()
        with self._uow.begin() as session:
            models = ModelRepository(session)
            models.save(record, artifact)
            if verdict.publish:
                models.make_current(record.version, now)
            session.commit()
        return record

    @staticmethod
    def _against_current(corpus: Corpus, candidate: ModelArtifact, current: ModelArtifact,
                         unseen_from: datetime) -> tuple[float, float, int] | None:
        """Candidate's and current model's precision@10 on what the current model never saw (purchases from
        `unseen_from`, the end of its data, or the hold-out's start if later); None when too few customers bought
        anything new since (the current model is then not compared, and the metrics say so)."""
        window = time_split(corpus, unseen_from)
        if len(window.test) < MIN_COMPARED_CUSTOMERS:
            return None
        data = frame(window)
        mine = evaluate(artifact_scorer(candidate, data), data.bought, data.truth)
        theirs = evaluate(artifact_scorer(current, data), data.bought, data.truth)
        return mine.precision, theirs.precision, mine.users

    def _corpus(self, now: datetime) -> Corpus:
        with self._uow.begin() as session:
            store = InteractionRepository(session)
            products, _ = CatalogueRepository(session).changed_since(-1)
            return Corpus(store.all_before(now), {p.product_id: p for p in products}, store.all_appetences())

    def _split(self, corpus: Corpus, now: datetime) -> Split:
        """The last `holdout` days; if nobody bought anything new in them, the last fifth of the interactions."""
        split = time_split(corpus, now - self._holdout)
        if split.test:
            return split
        times = sorted(item.at for item in corpus.interactions)
        return time_split(corpus, times[int(len(times) * 0.8)])

    def due(self, period: timedelta) -> bool:
        """Whether no replica trained a model in the last `period` (scheduled retraining: once, not once per
        replica)."""
        with self._uow.begin() as session:
            last = ModelRepository(session).last_trained_at()
        return last is None or self._clock.now() - last >= period

    def models(self) -> tuple[list[ModelRecord], str | None]:
        with self._uow.begin() as session:
            models = ModelRepository(session)
            return models.all(), models.current_version()

    def rollback(self, version: str) -> ModelRecord:
        """Make a stored, once published model current again; replicas pick it up on their next poll."""
        with self._uow.begin() as session:
            models = ModelRepository(session)
            record = models.record(version)
            if record is None:
                raise NotFound(f"no model {version!r}")
            if record.status == "refused":
                raise FailedPrecondition(f"model {version} was refused by the guard: {record.refusal}")
            models.make_current(version, self._clock.now())
            session.commit()
            return record
