"""Several replicas starting at once migrate the same schema without failing."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from declic.kit.config import Settings
from declic.kit.database import make_engine, migrate


def start_replica(settings: Settings) -> None:
    engine = make_engine(settings, "dispatch")
    try:
        migrate(engine, "dispatch", settings)
    finally:
        engine.dispose()


def test_concurrent_migrations_of_one_schema(settings) -> None:
    # Processes, like replicas (Alembic's context is process-global).
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(start_replica, [settings] * 4))  # raises if any replica failed
    engine = make_engine(settings, "dispatch")
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version_dispatch").scalar_one()
    engine.dispose()
    assert version == "0003"  # dispatch's last migration
