"""The durable hand-off between services: a Redis Stream read by consumer groups.

A publisher (normally an outbox relay) appends records; each consuming
service reads them through its own consumer group, so a service that is down
finds every record waiting when it comes back. A record is acknowledged only
after its handler succeeded (at-least-once); handlers are made idempotent
with an inbox (see `kit.inbox`). A record that keeps failing is moved to a
dead-letter stream after `max_deliveries` attempts instead of blocking the rest.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import cast

import redis

log = logging.getLogger("declic.stream")

PAYLOAD_FIELD = b"p"


def stream_key(prefix: str, name: str) -> str:
    """The Redis key of a named stream, e.g. "declic:handoff"."""
    return f"{prefix}:{name}"


# One command appends many entries: a pipeline of XADDs costs ~10 µs per entry in redis-py alone.
_XADD_ALL = "for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'p', ARGV[i]) end return #ARGV"
_PUBLISH_CHUNK = 1000


class StreamPublisher:
    """Appends records (opaque bytes, usually serialized protobuf) to a stream."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._client = client
        self.stream = stream
        self._xadd_all = client.register_script(_XADD_ALL)

    def publish(self, payloads: Sequence[bytes]) -> None:
        """Append all payloads, in order, in few round trips; raises on a Redis failure (nothing is lost: retry)."""
        for start in range(0, len(payloads), _PUBLISH_CHUNK):
            self._xadd_all(keys=[self.stream], args=list(payloads[start:start + _PUBLISH_CHUNK]))


class StreamConsumer:
    """Reads a stream as one member of a consumer group and hands each record to `handle`."""

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
        max_deliveries: int = 10,
    ) -> None:
        self._client = client
        self.stream = stream
        self.group = group
        self._handle = handle
        # A name stable across restarts on one host lets a restarted process
        # take back its own pending records at once.
        self.consumer = consumer or f"{group}-{socket.gethostname()}"
        self._batch_size = batch_size
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._max_deliveries = max_deliveries
        self._failures: dict[bytes, int] = {}
        self._last_claim = 0.0

    def ensure_group(self) -> None:
        """Create the group at the start of the stream (so nothing published earlier is missed)."""
        try:
            self._client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; survives Redis outages by retrying with backoff."""
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
        """Process one batch (pending retries first, then new records); return how many succeeded."""
        now = time.monotonic()
        if now - self._last_claim > self._claim_idle_ms / 1000:
            self._last_claim = now
            self._claim_abandoned()
        entries = self._read("0", block=False)  # our own pending: retries and post-restart leftovers
        if not entries:
            entries = self._read(">", block=True)
        if self._apply_whole_batch(entries):
            return len(entries)
        done = 0
        failed = False
        handled: list[bytes] = []  # acknowledged together at the end: one round trip per batch, not per record
        for record_id, fields in entries:
            payload = fields.get(PAYLOAD_FIELD)
            if payload is None:  # deleted or foreign entry: nothing to do
                handled.append(record_id)
                continue
            try:
                self._handle(payload)
            except Exception:  # noqa: BLE001 - one bad record must not stop the others
                failed = True
                attempts = self._failures.get(record_id, 0) + 1
                self._failures[record_id] = attempts
                log.exception("record %s failed (attempt %d)", record_id.decode(), attempts)
                if attempts >= self._max_deliveries:
                    self._dead_letter(record_id, payload)
                continue
            handled.append(record_id)
            self._failures.pop(record_id, None)
            done += 1
        if handled:
            self._client.xack(self.stream, self.group, *handled)
        if failed:
            time.sleep(min(0.05 * 2 ** min(max(self._failures.values(), default=1), 6), 3.0))
        return done

    def _apply_whole_batch(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> bool:
        """With a handler that has `handle_batch`, apply the batch at once (one transaction);
        False when it failed, and the records are then retried one by one to isolate the bad one."""
        handle_batch = getattr(self._handle, "handle_batch", None)
        if handle_batch is None or len(entries) < 2:
            return False
        payloads = [fields[PAYLOAD_FIELD] for _, fields in entries if PAYLOAD_FIELD in fields]
        try:
            handle_batch(payloads)
        except Exception:  # noqa: BLE001 - fall back to one record at a time
            log.warning("batch of %d records failed; applying them one by one", len(entries), exc_info=True)
            return False
        self._client.xack(self.stream, self.group, *(record_id for record_id, _ in entries))
        for record_id, _ in entries:
            self._failures.pop(record_id, None)
        return True

    def _read(self, start: str, *, block: bool) -> list[tuple[bytes, dict[bytes, bytes]]]:
        response = self._client.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: start},
            count=self._batch_size,
            block=self._block_ms if block else None,
        )
        if not response:
            return []
        _, entries = cast(list, response)[0]  # RESP2 shape: [[stream, entries]]
        return list(entries)

    def _claim_abandoned(self) -> None:
        """Take over records another consumer of the group read but never acknowledged (it died)."""
        self._client.xautoclaim(
            self.stream, self.group, self.consumer, min_idle_time=self._claim_idle_ms, count=self._batch_size
        )

    def _dead_letter(self, record_id: bytes, payload: bytes) -> None:
        dead = f"{self.stream}:dead:{self.group}"
        self._client.xadd(dead, {PAYLOAD_FIELD: payload, b"source_id": record_id})
        self._client.xack(self.stream, self.group, record_id)
        self._failures.pop(record_id, None)
        log.error("record %s moved to %s after %d failures", record_id.decode(), dead, self._max_deliveries)
