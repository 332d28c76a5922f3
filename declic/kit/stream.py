"""The durable hand-off between services: a Redis Stream read by consumer groups.

A publisher (normally an outbox relay) appends records; each consuming
service reads them through its own consumer group, so a service that is down
finds every record waiting when it comes back. A record is acknowledged only
after its handler succeeded (at-least-once); handlers are made idempotent
with an inbox (see `kit.inbox`). A record that cannot be applied is set aside in the group's dead letters
(`kit.dead_letters`) at once, instead of holding up the records after it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import cast

import redis

from declic.kit.dead_letters import FOR_GROUP_FIELD, set_aside
from declic.kit.failures import is_outage, reason_of
from declic.kit.framing import unframe
from declic.kit.record_isolation import Record, RecordIsolation

log = logging.getLogger("declic.stream")

PAYLOAD_FIELD = b"p"
"""An entry holding one record."""
FRAME_FIELD = b"f"
"""An entry holding many records, framed (`kit.framing`): a transaction's records, appended in one go."""


def stream_key(prefix: str, name: str) -> str:
    """The Redis key of a named stream, e.g. "declic:handoff"."""
    return f"{prefix}:{name}"


def entry_records(fields: dict[bytes, bytes]) -> list[bytes]:
    """The records an entry holds, in order: one, many (framed), or none (a deleted or foreign entry)."""
    if PAYLOAD_FIELD in fields:
        return [fields[PAYLOAD_FIELD]]
    if FRAME_FIELD in fields:
        return unframe(fields[FRAME_FIELD])
    return []


def read_records(client: redis.Redis, stream: str) -> list[bytes]:
    """Every record on `stream`, in order, whatever entries hold them (for tools and tests)."""
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(stream))
    return [record for _, fields in entries for record in entry_records(fields)]


# One command appends many entries: a pipeline of XADDs costs ~10 µs per entry in redis-py alone.
_XADD_ALL = "for i = 2, #ARGV do redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[i]) end return #ARGV - 1"
_PUBLISH_CHUNK = 1000


class StreamPublisher:
    """Appends records (opaque bytes, usually serialized protobuf) to a stream."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._client = client
        self.stream = stream
        self._xadd_all = client.register_script(_XADD_ALL)

    def publish(self, payloads: Sequence[bytes]) -> None:
        """Append all payloads, one entry each, in order, in few round trips; raises on a Redis failure
        (nothing is lost: retry)."""
        self._append(PAYLOAD_FIELD, payloads)

    def publish_frames(self, frames: Sequence[bytes]) -> None:
        """Append framed payloads (`kit.framing.frame`), one entry each holding all its records, in order."""
        self._append(FRAME_FIELD, frames)

    def _append(self, field: bytes, values: Sequence[bytes]) -> None:
        for start in range(0, len(values), _PUBLISH_CHUNK):
            self._xadd_all(keys=[self.stream], args=[field, *values[start:start + _PUBLISH_CHUNK]])


class StreamConsumer:
    """Reads a stream as one member of a consumer group and hands each record to `handle`.

    An entry holds one record or a frame of many (`FRAME_FIELD`); either way the handler sees records one by
    one (or a list of them with `handle_batch`), in order. An entry is acknowledged once all its records are
    handled or set aside; until then it is delivered again (records of it already handled are skipped).

    A record that cannot be applied is set aside at once in the group's dead letters (`kit.dead_letters`) and the
    records after it go on (`kit.record_isolation`); while a dependency is down, the records wait (backoff)."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        handle: Callable[[bytes], None],
        *,
        consumer: str | None = None,
        batch_size: int = 100,
        block_ms: int = 500,
        claim_idle_ms: int = 10_000,
        max_deliveries: int = 2,
    ) -> None:
        """`batch_size`: records handed to `handle_batch` at a time, and about as many read at a time.
        `max_deliveries`: attempts of a record on its own before it is set aside (a second, at once, lets a
        conflict with another writer pass)."""
        self._client = client
        self.stream = stream
        self.group = group
        self._group_id = group.encode()
        self._isolation = RecordIsolation(handle, group, max_deliveries, self._finish, self._set_aside_record)
        # A name stable across restarts on one host lets a restarted process
        # take back its own pending records at once.
        self.consumer = consumer or f"{group}-{socket.gethostname()}"
        self._batch_size = batch_size
        self._entries_per_read = batch_size
        """Entries read (or claimed) at a time: about `batch_size` records' worth, from the records per entry last
        read — one frame of a thousand records, or a hundred entries of one — so that a read stays a few seconds
        of work at most, well under `claim_idle_ms`, after which another consumer would take its entries over."""
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._handled: dict[bytes, set[bytes]] = {}
        """Of entries not acknowledged yet (a dependency failed meanwhile): the records already handled."""
        self._remaining: dict[bytes, int] = {}
        self._last_claim = 0.0
        self._outage_wait = 0.0
        self._wait: Callable[[float], object] = time.sleep

    def ensure_group(self) -> None:
        """Create the group at the start of the stream (so nothing published earlier is missed)."""
        try:
            self._client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; survives Redis outages by retrying with backoff."""
        self._wait = stop.wait
        backoff = 0.1
        while not stop.is_set():
            try:
                self.ensure_group()
                while not stop.is_set():
                    self.poll_once()
                    backoff = 0.1
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("stream %s unreachable (%s); retrying in %.1fs", self.stream, exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def poll_once(self) -> int:
        """Process one batch of entries (pending ones first, then new ones); return how many records were handled.
        When a dependency is down, stop there, wait (longer each time, up to 5 s) and return."""
        now = time.monotonic()
        if now - self._last_claim > self._claim_idle_ms / 1000:
            self._last_claim = now
            self._claim_abandoned()
        entries = self._read("0", block=False)  # our own pending: retries and post-restart leftovers
        if not entries:
            entries = self._read(">", block=True)
        records = self._unpack(entries)
        self._size_reads(len(entries), len(records))
        self._acknowledge([entry_id for entry_id, count in self._remaining.items() if count == 0])
        handled = 0
        try:
            for start in range(0, len(records), self._batch_size):
                handled += self._isolation.apply(records[start:start + self._batch_size])
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._outage_wait = min(max(self._outage_wait * 2, 0.1), 5.0)
            log.warning("group %s: a dependency is unavailable (%s); its records wait, retried in %.1fs",
                        self.group, reason_of(exc), self._outage_wait)
            self._wait(self._outage_wait)
            return handled
        self._outage_wait = 0.0
        return handled

    def _finish(self, records: list[Record]) -> None:
        """Records handled or set aside: acknowledge the entries that have no record left."""
        complete = []
        for record in records:
            self._remaining[record.entry_id] -= 1
            if self._remaining[record.entry_id] == 0:
                complete.append(record.entry_id)
            else:
                self._handled.setdefault(record.entry_id, set()).add(record.key)
        self._acknowledge(complete)

    def _size_reads(self, entries: int, records: int) -> None:
        """Read about `batch_size` records' worth of entries next time, as the entries just read held."""
        if entries and records:
            self._entries_per_read = min(self._batch_size, max(1, self._batch_size * entries // records))
        if len(self._handled) > 10_000:  # entries another consumer took over meanwhile: let go of their progress
            self._handled.clear()  # (their records already handled would be handled again: harmless)

    def _unpack(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[Record]:
        """The records of `entries` still to handle, in order; `_remaining` tells how many each entry has left."""
        self._remaining = {}
        records: list[Record] = []
        for entry_id, fields in entries:
            fields = fields or {}
            payloads: list[bytes] = []
            if fields.get(FOR_GROUP_FIELD, self._group_id) == self._group_id:  # else replayed for another group
                try:
                    if fields and PAYLOAD_FIELD not in fields and FRAME_FIELD not in fields:
                        raise ValueError(f"no field {PAYLOAD_FIELD!r} or {FRAME_FIELD!r} (a newer publisher?)")
                    payloads = entry_records(fields)
                except ValueError as exc:  # not records: set aside as it is, at once (no retry can mend it)
                    self._set_aside(fields, entry_id, f"cannot be read ({exc})")
            single = PAYLOAD_FIELD in fields
            done = self._handled.get(entry_id, set())
            todo = [Record(entry_id, entry_id if single else b"%s#%d" % (entry_id, n), payload)
                    for n, payload in enumerate(payloads)]
            todo = [record for record in todo if record.key not in done]
            self._remaining[entry_id] = len(todo)
            records.extend(todo)
        return records

    def _acknowledge(self, entry_ids: list[bytes]) -> None:
        """One round trip for the entries whose records are all handled."""
        if entry_ids:
            self._client.xack(self.stream, self.group, *entry_ids)
            for entry_id in entry_ids:
                self._handled.pop(entry_id, None)

    def _read(self, start: str, *, block: bool) -> list[tuple[bytes, dict[bytes, bytes]]]:
        response = self._client.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: start},
            count=self._entries_per_read,
            block=self._block_ms if block else None,
        )
        if not response:
            return []
        _, entries = cast(list, response)[0]  # RESP2 shape: [[stream, entries]]
        return list(entries)

    def _claim_abandoned(self) -> None:
        """Take over records another consumer of the group read but never acknowledged (it died)."""
        self._client.xautoclaim(
            self.stream, self.group, self.consumer, min_idle_time=self._claim_idle_ms,
            count=self._entries_per_read
        )

    def _set_aside(self, fields: dict[bytes, bytes], source_id: bytes, reason: str) -> None:
        set_aside(self._client, self.stream, self.group, self.consumer, fields, source_id, reason)

    def _set_aside_record(self, record: Record, reason: str) -> None:
        self._set_aside({PAYLOAD_FIELD: record.payload}, record.key, reason)
