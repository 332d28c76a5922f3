"""Send import items to ingest in batches and sum up the answers (accepted, duplicate, refused by reason)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from declic.common.v1 import event_pb2
from declic.importing.items import ImportItem, RowProblem
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.channels import retry_transient
from declic.kit.errors import stats_reason

BATCH_EVENTS = 500
BATCH_BYTES = 3 * 1024 * 1024  # under ingest's 4 MiB limit, with room for the envelope
EXAMPLES = 10


@dataclass
class ImportSummary:
    """What ingest made of an import, event by event and row by row."""

    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rows_seen: set[int] = field(default_factory=set)
    """File rows behind the events (a row may feed two: its product and its order)."""
    rows_refused: set[int] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)
    """Refused events (or unreadable row groups) by reason."""
    rows_by_reason: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    """Accepted with a remark, by kind ("unknown_product")."""
    customers: set[str] = field(default_factory=set)
    """The customers ingest filed the accepted and duplicate events under."""
    examples: list[tuple[tuple[int, ...], str]] = field(default_factory=list)
    """The first refusals: file rows and reason, to find them in the file."""

    @property
    def rows(self) -> int:
        return len(self.rows_seen)

    @property
    def rows_rejected(self) -> int:
        return len(self.rows_refused)

    def refuse(self, rows: tuple[int, ...], reasons: Iterable[str]) -> None:
        self.rejected += 1
        self.rows_refused.update(rows)
        for reason in sorted(set(reasons)):
            self.reasons[reason] += 1
            self.rows_by_reason[reason] += len(rows)
            if len(self.examples) < EXAMPLES:
                self.examples.append((rows, reason))

    def one_line(self) -> str:
        return (f"{self.rows:,} rows → {self.events:,} events: {self.accepted:,} accepted, "
                f"{self.duplicates:,} duplicates, {self.rejected:,} refused ({self.rows_rejected:,} rows)")


class ImportRun:
    """Sends import items to ingest; `before_batch(events)` runs before each batch goes (the demo moves its
    simulated clock there)."""

    def __init__(self, stub: ingest_pb2_grpc.IngestServiceStub, batch_events: int = BATCH_EVENTS,
                 timeout: float = 120.0,
                 before_batch: Callable[[list[event_pb2.Event]], None] = lambda events: None) -> None:
        self._stub = stub
        self._batch_events = batch_events
        self._timeout = timeout
        self._before_batch = before_batch
        self.summary = ImportSummary()

    def send_all(self, items: Iterable[ImportItem | RowProblem],
                 progress: Callable[[int], None] = lambda done: None) -> ImportSummary:
        """Send everything; `progress(n)` after each batch with the number of items it covered."""
        batch: list[ImportItem] = []
        size = 0
        for item in items:
            if isinstance(item, RowProblem):
                self.summary.events += 1
                self.summary.rows_seen.update(item.rows)
                self.summary.refuse(item.rows, [item.reason])
                progress(1)
                continue
            item_size = item.event.ByteSize() + 16
            if batch and (len(batch) >= self._batch_events or size + item_size > BATCH_BYTES):
                self._send(batch, progress)
                batch, size = [], 0
            batch.append(item)
            size += item_size
        if batch:
            self._send(batch, progress)
        return self.summary

    def _send(self, batch: list[ImportItem], progress: Callable[[int], None]) -> None:
        events = [item.event for item in batch]
        self._before_batch(events)
        response = self._call(ingest_pb2.IngestBatchRequest(events=events))
        summary = self.summary
        for item, result in zip(batch, response.results, strict=True):
            summary.events += 1
            summary.rows_seen.update(item.rows)
            if result.status == ingest_pb2.EVENT_STATUS_REJECTED:
                prefix = f"events[{result.index}]."
                summary.refuse(item.rows, [stats_reason(e.field.removeprefix(prefix), e.description)
                                           for e in result.errors])
                continue
            if result.status == ingest_pb2.EVENT_STATUS_DUPLICATE:
                summary.duplicates += 1
            else:
                summary.accepted += 1
            if result.customer_id:
                summary.customers.add(result.customer_id)
            summary.warnings.update(warning.split(":", 1)[0] for warning in result.warnings)
        progress(len(batch))

    @retry_transient(attempts=6, max_wait=5.0)
    def _call(self, request: ingest_pb2.IngestBatchRequest) -> ingest_pb2.IngestBatchResponse:
        return self._stub.IngestBatch(request, timeout=self._timeout)
