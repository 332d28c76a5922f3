"""SQLAlchemy 2 engines, sessions and per-service Alembic migrations.

Each service owns its tables: on PostgreSQL in its own schema
(`<db_schema_prefix><service>`), on the embedded default in its own SQLite
file. Other services reach that data only through the service's gRPC API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, DateTime, Engine, Table, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from declic.kit.config import Settings

log = logging.getLogger("declic.database")


class UtcDateTime(TypeDecorator):
    """A timestamp always stored and returned as an aware UTC datetime (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_for(session: Session | Connection, table: Table) -> Any:
    """An INSERT for the session's dialect that supports ON CONFLICT (PostgreSQL or SQLite)."""
    dialect = session.get_bind().dialect if isinstance(session, Session) else session.dialect
    return pg_insert(table) if dialect.name == "postgresql" else sqlite_insert(table)


def schema_name(settings: Settings, service: str) -> str | None:
    """The PostgreSQL schema holding `service`'s tables (None on SQLite)."""
    return f"{settings.db_schema_prefix}{service}" if settings.is_postgres else None


def make_engine(settings: Settings, service: str, pool_size: int = 10, pre_ping: bool = True) -> Engine:
    """An engine on `service`'s own database (schema or SQLite file), created if missing.

    `pre_ping`: check each PostgreSQL connection with a round trip when it is taken from the pool. A caller
    running transactions back to back can do without (one round trip less each), if it replays a transaction
    whose connection turned out broken (`is_broken_connection`)."""
    url = settings.database_url_for(service)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so
        # that BEGIN IMMEDIATE serialises writers instead of failing them.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    schema = schema_name(settings, service)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        connect_args={"options": f"-csearch_path={schema}"},
    )
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except IntegrityError:  # another replica created it at the same instant
        pass
    return engine


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")  # first: the next pragmas may have to wait for a lock
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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
