"""Trained models, versioned, and which one answers: replicas poll `current_version` and load the new one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.recommend.storage.tables import current_model, models

CURRENT = 1


@dataclass(frozen=True)
class ModelRecord:
    version: str
    trained_at: datetime
    data_from: datetime | None
    data_to: datetime | None
    metrics: dict[str, float] = field(default_factory=dict)
    status: str = "published"
    refusal: str = ""
    users: int = 0
    products: int = 0


class ModelRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, record: ModelRecord, artifact: bytes | None) -> None:
        self._session.execute(insert(models).values(**record.__dict__, artifact=artifact))

    def try_training_lock(self) -> bool:
        """A transaction-scoped advisory lock for this schema's models: released when the transaction ends."""
        key = func.hashtext(func.concat("declic-recommend-training:", func.current_schema()))
        return bool(self._session.execute(select(func.pg_try_advisory_xact_lock(key))).scalar())

    def make_current(self, version: str, now: datetime) -> None:
        statement = insert(current_model).values(id=CURRENT, version=version, changed_at=now)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["id"], set_={"version": version, "changed_at": now}))

    def last_trained_at(self) -> datetime | None:
        """When any replica last trained a model (published or refused)."""
        return self._session.execute(select(func.max(models.c.trained_at))).scalar()

    def current_version(self) -> str | None:
        return self._session.execute(select(current_model.c.version).where(current_model.c.id == CURRENT)).scalar()

    def record(self, version: str) -> ModelRecord | None:
        row = self._session.execute(select(*_record_columns()).where(models.c.version == version)).first()
        return _record(row) if row else None

    def artifact(self, version: str) -> bytes | None:
        return self._session.execute(select(models.c.artifact).where(models.c.version == version)).scalar()

    def all(self) -> list[ModelRecord]:
        rows = self._session.execute(select(*_record_columns()).order_by(models.c.trained_at.desc(),
                                                                          models.c.version.desc()))
        return [_record(row) for row in rows]


def _record_columns():
    return [column for column in models.c if column.name != "artifact"]


def _record(row) -> ModelRecord:
    return ModelRecord(version=row.version, trained_at=row.trained_at, data_from=row.data_from, data_to=row.data_to,
                       metrics=dict(row.metrics), status=row.status, refusal=row.refusal, users=row.users,
                       products=row.products)
