"""The ingest benchmark's floors: raw PostgreSQL COPYs of what ingest writes (the event rows alone into one table;
every row ingest wrote, into its own tables and indexes), measured in the same run as ingest itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import psycopg


def copy_baseline(url: str, rows: Sequence[Sequence[tuple]]) -> float:
    """Seconds to COPY the same event rows into a table with the same key, one transaction per batch."""
    schema = f"bench_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".events (source varchar(64), event_id varchar(128), '
                     "customer_id varchar(32), kind varchar(32), event_time timestamptz, received_at timestamptz, "
                     "payload bytea, PRIMARY KEY (source, event_id))")
        conn.autocommit = False
        started = time.perf_counter()
        for batch in rows:
            with conn.cursor() as cursor, cursor.copy(
                    f'COPY "{schema}".events (source, event_id, customer_id, kind, event_time, received_at, payload) '
                    "FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.autocommit = True
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return elapsed


WRITTEN_TABLES = ("events", "identifiers", "customers", "merges")


def written_rows(url: str, schema: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every row ingest wrote to its tables (besides the outbox, which the relay empties), with the columns."""
    found = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for table in WRITTEN_TABLES:
            cursor = conn.execute(f'SELECT * FROM "{schema}"."{table}"')
            found[table] = ([c.name for c in cursor.description], cursor.fetchall())
    return found


def copy_written_baseline(url: str, prefix: str, written: dict[str, tuple[list[str], list[tuple]]],
                          records: Sequence[bytes], batches: int) -> float:
    """Seconds to COPY every row ingest wrote — events, identifiers, customers, merges and the hand-off records
    framed in one outbox row per transaction — into the same tables with the same indexes (ingest's own
    migrations, in a fresh schema), cut into `batches` transactions with an equal share of each table, in
    PostgreSQL's binary format (as ingest writes). No validation, no lookup, no rule: the cost of the writes."""
    from declic.kit.config import load_settings
    from declic.kit.database import make_engine, migrate
    from declic.kit.framing import frame

    settings = load_settings(database_url=url, db_schema_prefix=prefix)
    engine = make_engine(settings, "ingest")
    migrate(engine, "ingest", settings)
    engine.dispose()
    schema = f"{prefix}ingest"
    with psycopg.connect(url) as conn:
        types = {}
        for table in (*WRITTEN_TABLES, "outbox"):
            types[table] = dict(conn.execute(
                "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a WHERE a.attrelid = %s::regclass"
                " AND a.attnum > 0 AND NOT a.attisdropped", (f'"{schema}"."{table}"',)).fetchall())
        conn.commit()

        def share(rows: Sequence, n: int) -> Sequence:
            return rows[len(rows) * n // batches:len(rows) * (n + 1) // batches]

        started = time.perf_counter()
        for n in range(batches):
            with conn.cursor() as cursor:
                for table, (columns, rows) in written.items():
                    with cursor.copy(f'COPY "{schema}"."{table}" ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)'
                                     ) as copy:
                        copy.set_types([types[table][c] for c in columns])
                        for row in share(rows, n):
                            copy.write_row(row)
                with cursor.copy(f'COPY "{schema}".outbox (stream, payload) FROM STDIN (FORMAT BINARY)') as copy:
                    copy.set_types(["character varying", "bytea"])
                    copy.write_row(("handoff", frame(share(records, n))))
            conn.commit()
        return time.perf_counter() - started
