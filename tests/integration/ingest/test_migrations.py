"""Upgrading a database written by an older ingest: nothing waiting in the outbox is lost."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from declic.kit.database import make_engine, migrate, schema_name
from declic.kit.framing import frame, unframe
from services.ingest.storage import tables


def _alembic(engine, settings) -> AlembicConfig:  # noqa: ANN001
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[3] / "services/ingest/migrations"))
    config.attributes.update(engine=engine, schema=schema_name(settings, "ingest"), service="ingest")
    return config


def test_outbox_rows_of_one_record_are_framed_by_the_upgrade_and_unframed_by_the_downgrade(settings) -> None:
    engine = make_engine(settings, "ingest")
    command.upgrade(_alembic(engine, settings), "0002")
    with engine.begin() as conn:  # written one record per row, as before 0003
        conn.execute(text("INSERT INTO outbox (stream, payload) VALUES ('s', :a), ('s', :b)"),
                     {"a": b"first record", "b": b"second" * 100})
    migrate(engine, "ingest", settings)
    with engine.connect() as conn:
        payloads = [bytes(p) for p in conn.execute(text("SELECT payload FROM outbox ORDER BY id")).scalars()]
    assert [unframe(p) for p in payloads] == [[b"first record"], [b"second" * 100]]

    with engine.begin() as conn:  # a transaction of the new version: two records in one row
        conn.execute(tables.outbox.insert().values(stream="s", payload=frame([b"r1", b"r2"])))
    command.downgrade(_alembic(engine, settings), "0002")
    with engine.connect() as conn:
        payloads = [bytes(p) for p in conn.execute(text("SELECT payload FROM outbox ORDER BY id")).scalars()]
    assert payloads == [b"first record", b"second" * 100, b"r1", b"r2"]
    engine.dispose()
