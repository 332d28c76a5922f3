"""SQLAlchemy 2 engines, sessions and per-service Alembic migrations.

One engine everywhere: PostgreSQL (the server DECLIC_DATABASE_URL names, or the
bundled one of the embedded default). Each service owns its tables in its own
schema (`<db_schema_prefix><service>`); other services reach that data only
through the service's gRPC API.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import DateTime, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from declic.kit import bundled_postgres
from declic.kit.config import Settings

log = logging.getLogger("declic.database")


class UtcDateTime(TypeDecorator):
    """A timestamp always stored and returned as an aware UTC datetime; a naive one is refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)


def schema_name(settings: Settings, service: str) -> str:
    """The PostgreSQL schema holding `service`'s tables."""
    return f"{settings.db_schema_prefix}{service}"


def database_url(settings: Settings) -> str:
    """The server to use: DECLIC_DATABASE_URL, or the bundled one under var_dir (started if need be)."""
    if settings.uses_bundled_postgres:
        return bundled_postgres.ensure_running(settings.var_dir)
    return settings.database_url


def sqlalchemy_url(url: str) -> str:
    """A postgresql:// URL as SQLAlchemy's psycopg 3 driver wants it."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


ASYNCHRONOUS_COMMIT = " -csynchronous_commit=off"


def make_engine(settings: Settings, service: str, pool_size: int = 10, pre_ping: bool = True,
                synchronous_commit: bool = True, autocommit: bool = False) -> Engine:
    """An engine on `service`'s own schema, created if missing.

    `pre_ping`: check each connection with a round trip when it is taken from the pool. A caller
    running transactions back to back can do without (one round trip less each), if it replays a transaction
    whose connection turned out broken (`is_broken_connection`).
    `synchronous_commit=False`: a commit returns before its WAL reaches the disk (PostgreSQL's asynchronous
    commit): visible to every other connection at once, durable within three `wal_writer_delay` (0.6 s by
    default); a crash of the database server, not of the service, loses at most that much. Only for writes whose
    loss that close to a crash is tolerable — never for a hand-off's claim or an accepted event.
    `autocommit`: every connection in autocommit from the start (each statement its own transaction), where
    `execution_options(isolation_level="AUTOCOMMIT")` on a shared engine switches it at each checkout and back at
    each check-in (a third of the checkout's cost)."""
    url = sqlalchemy_url(database_url(settings))
    schema = schema_name(settings, service)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        # Who is connected, in pg_stat_activity: the service and its process (ingest runs three).
        connect_args={"options": f"-csearch_path={schema}" + ("" if synchronous_commit else ASYNCHRONOUS_COMMIT),
                      "application_name": application_name(service)},
    )
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except IntegrityError:  # another replica created it at the same instant
        pass
    return engine


def application_name(service: str, pid: int | None = None) -> str:
    """The name this process's connections show in pg_stat_activity: `declic-<service>-<pid>`."""
    return f"declic-{service}-{os.getpid() if pid is None else pid}"


def is_broken_connection(exc: BaseException) -> bool:
    """Whether `exc` says the database connection broke (server restarted or shut down, connection terminated
    or lost): nothing of the transaction was committed, and a new connection can replay it. A statement the
    server refused (a timeout, a constraint) is not that."""
    import psycopg

    error: BaseException | None = exc
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        error = exc.orig
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate  # None: lost on the client's side; 08…: connection exception; 57P0…: shut down, terminated
    return state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}


def migrate(engine: Engine, service: str, settings: Settings) -> None:
    """Bring `service`'s tables to the newest Alembic revision (services/<service>/migrations)."""
    script_location = Path(__file__).resolve().parents[2] / "services" / service / "migrations"
    config = AlembicConfig()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    config.attributes["schema"] = schema_name(settings, service)
    config.attributes["service"] = service
    command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class UnitOfWork:
    """A transaction that rolls back unless `commit()` is called."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    @contextmanager
    def begin(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            if session.in_transaction():
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
