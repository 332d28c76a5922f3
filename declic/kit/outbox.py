"""Transactional outbox: rows written in the same transaction as the change,
relayed to a stream by a background worker.

A crash between publishing and deleting re-publishes the same rows: records
carry their own stable id and consumers are idempotent, so nothing is lost
and nothing is applied twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import redis
from sqlalchemy import (
    BigInteger,
    Column,
    LargeBinary,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from declic.kit.framing import unframe
from declic.kit.stream import StreamPublisher

log = logging.getLogger("declic.outbox")


def outbox_columns() -> list[Column]:
    """Columns of an outbox table (shared by the table and its migration)."""
    return [
        Column("id", BigInteger(), primary_key=True, autoincrement=True),
        Column("stream", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
    ]


def outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    return Table(name, metadata, *outbox_columns())


class OutboxRelay:
    """Moves outbox rows to their streams, oldest first, then deletes them."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        client: redis.Redis,
        *,
        batch_size: int = 1000,
        idle_wait: float = 0.05,
        framed: bool = False,
        split_frames: bool = False,
    ) -> None:
        """`framed`: each row's payload holds many records (`kit.framing.frame`), appended as one stream entry
        (consumers split it again): a service writing many records per transaction stores them in one row.
        `split_frames`: append each record of a framed row as an entry of its own instead (for consumers that
        predate framed entries)."""
        self._engine = engine
        self._table = table
        self._client = client
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._framed = framed
        self._split_frames = split_frames
        self.wake = threading.Event()

    def relay_once(self) -> int:
        """Publish one batch; return how many rows were relayed."""
        table = self._table
        query = (select(table.c.id, table.c.stream, table.c.payload).order_by(table.c.id).limit(self._batch_size)
                 .with_for_update(skip_locked=True))
        with self._engine.begin() as conn:
            rows: Sequence = conn.execute(query).all()
            if not rows:
                return 0
            by_stream: dict[str, list[bytes]] = {}
            for row in rows:
                if self._framed and self._split_frames:
                    by_stream.setdefault(row.stream, []).extend(unframe(bytes(row.payload)))
                else:
                    by_stream.setdefault(row.stream, []).append(bytes(row.payload))
            for stream, payloads in by_stream.items():
                publisher = StreamPublisher(self._client, stream)
                (publisher.publish_frames if self._framed and not self._split_frames else publisher.publish)(payloads)
            ids = [row.id for row in rows]
            # One array parameter: an IN list of thousands of parameters costs more to build than to run.
            conn.execute(delete(table).where(table.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))))
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set; Redis or database outages are retried with backoff."""
        backoff = 0.1
        while not stop.is_set():
            try:
                if self.relay_once() == 0:
                    self.wake.wait(self._idle_wait)
                    self.wake.clear()
                backoff = 0.1
            except Exception as exc:  # noqa: BLE001 - keep relaying whatever failed once
                log.warning("outbox relay failed (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
