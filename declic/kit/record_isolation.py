"""Applying a stream's records so that a bad one is set aside alone and the others are applied: the stream
consumer's rule for failures (`kit.stream.StreamConsumer`), apart from its reading and acknowledging.

A failure is one of two kinds (`kit.failures`). A dependency that is down (database, Redis) is raised to the
consumer: the records wait and are tried again, never set aside. Anything else is the record's fault: the records
before it are applied, it is tried on its own (twice by default: a conflict with another writer passes) and then
set aside, and the records after it go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from declic.kit.failures import RecordFailed, is_outage, reason_of

log = logging.getLogger("declic.stream")


@dataclass(slots=True)
class Record:
    """One record read from a stream."""

    entry_id: bytes
    key: bytes
    """The record's name in the dead-letter stream: the entry id, with "#<n>" in a frame."""
    payload: bytes


class RecordIsolation:
    """Applies records with `handle` (one) or its `handle_batch` (many, one transaction), calling `finished` with the
    records applied or set aside and `set_aside` with a bad record and the reason."""

    def __init__(self, handle: Callable[[bytes], None], group: str, tries_alone: int,
                 finished: Callable[[list[Record]], None], set_aside: Callable[[Record, str], None]) -> None:
        self._handle = handle
        self._handle_batch: Callable[[list[bytes]], None] | None = getattr(handle, "handle_batch", None)
        self._group = group
        self._tries_alone = max(1, tries_alone)
        self._finished = finished
        self._set_aside = set_aside

    def apply(self, records: list[Record]) -> int:
        """Apply `records` (as one batch when the handler can); when they fail together, apply the ones before the
        first bad record, set it aside, and go on with the rest. Return how many were applied; raise what says a
        dependency is down.

        The handler names the bad record when it can (`RecordFailed`); else it is looked for by halving the start:
        each batch applied costs a commit, each one that fails only a rollback, and halving the start rather than
        the whole batch commits about half as many pieces."""
        if self._handle_batch is None:
            return sum(self._apply_alone(record) for record in records)
        applied = 0
        while records:
            failure = self._failure_of(records)
            if failure is None:
                return applied + len(records)
            if isinstance(failure, RecordFailed) and 0 <= failure.index < len(records):
                first_bad = failure.index
                applied += self.apply(records[:first_bad])
            else:
                first_bad = self._apply_up_to_first_bad(records)
                applied += first_bad
            applied += self._apply_alone(records[first_bad])
            records = records[first_bad + 1:]
        return applied

    def _apply_up_to_first_bad(self, records: list[Record]) -> int:
        """Of `records`, which fail together: apply the ones before the first bad one, and return its index."""
        start, end = 0, len(records)  # records[:start] applied; the first bad one in records[start:end]
        while end - start > 1:
            middle = (start + end) // 2
            if self._failure_of(records[start:middle]) is None:
                start = middle
            else:
                end = middle
        return start

    def _failure_of(self, records: list[Record]) -> Exception | None:
        """Apply `records` as one batch (one transaction): None when applied, else why they were not."""
        try:
            self._handle_batch([record.payload for record in records])  # type: ignore[misc]
        except Exception as exc:
            if is_outage(exc):
                raise
            log.info("group %s: a batch of %d records failed (%s)", self._group, len(records), reason_of(exc))
            return exc
        self._finished(records)
        return None

    def _apply_alone(self, record: Record) -> int:
        """1 when `record` was applied; 0 when it was set aside after failing `tries_alone` times."""
        for attempt in range(1, self._tries_alone + 1):
            try:
                self._handle(record.payload)
            except Exception as exc:
                if is_outage(exc):
                    raise
                if attempt == self._tries_alone:
                    self._set_aside(record, reason_of(exc))
                    self._finished([record])
                    return 0
                continue
            break
        self._finished([record])
        return 1
