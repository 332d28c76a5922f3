"""One batch in one transaction: de-duplicate, resolve identities, store events and hand them off.

Everything is set-based: a handful of statements per batch whatever its size.
Concurrency across replicas rests on the database: the events' primary key
refuses a second copy of the same (source, event_id), the identifiers' primary
key a second owner, and merges lock the customers they touch. Any of those
conflicts rolls the batch back and the service runs it again from a fresh
snapshot (then the other writer's events are seen as duplicates).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from declic.kit.identifiers import identifier_hash
from services.ingest import handoff
from services.ingest.domain.identity import Identifier, IdentityGraph, IdentityPolicy, Resolution
from services.ingest.storage.repository import IngestRepository
from services.ingest.validation import CATALOGUE_KINDS, ValidatedEvent, stats_reason

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
ERASED_REASON = "belongs to an erased person (right to erasure): not accepted again"


@dataclass
class Outcome:
    """What happened to one event of the batch."""

    status: str
    customer_id: str = ""
    new_customer: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate_of: int | None = None
    """For a repeat inside the batch: the index of its first copy."""


def new_customer_id() -> str:
    return uuid.uuid4().hex


@dataclass
class BatchWriter:
    """Applies validated events to the database within the caller's transaction."""

    repository: IngestRepository
    policy: IdentityPolicy
    stream: str
    now: datetime
    new_id: Callable[[], str] = new_customer_id
    trace_context: dict[str, str] = field(default_factory=dict)
    """W3C trace context of the call, carried by every record so that traces follow events downstream."""
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    _records: list[bytes] = field(default_factory=list)

    def apply(self, events: list[ValidatedEvent]) -> dict[int, Outcome]:
        """Apply the batch; returns an outcome per event index (rejected events included)."""
        fresh = self._deduplicate([e for e in events if e.ok])
        owners = self.repository.owners(sorted({i for e in fresh if e.kind not in CATALOGUE_KINDS
                                                for i in e.identifiers}))
        fresh = self._refuse_erased(fresh, owners)
        graph = self._identity_graph(fresh, owners)
        known_products = self._known_products(fresh)
        encoder = handoff.AcceptedEventEncoder(self.now, self.trace_context)
        event_rows, merge_audit, refusals = [], [], []
        for event in fresh:
            outcome = Outcome(ACCEPTED, warnings=list(event.warnings))
            if event.kind not in CATALOGUE_KINDS:
                resolution = graph.resolve(event.identifiers, self.now)
                self._merged(resolution, event, merge_audit)
                refusals.extend(_refusal_rows(resolution, event, self.now))
                outcome.customer_id, outcome.new_customer = resolution.customer_id, resolution.new_customer
                outcome.warnings.extend(resolution.warnings)
            outcome.warnings.extend(f"unknown_product:{p}" for p in event.product_ids if p not in known_products)
            self.outcomes[event.index] = outcome
            source, event_id = event.key
            event_rows.append((source, event_id, outcome.customer_id or None, event.kind, event.event_time, self.now,
                               event.payload))
            self._records.append(encoder.encode(source, event_id, event.payload, outcome.customer_id,
                                                outcome.new_customer, outcome.warnings))
        for event in events:
            if not event.ok:
                self.outcomes[event.index] = Outcome(REJECTED, errors=list(event.errors))
        self._persist_identity(graph)
        event_rows.sort(key=lambda row: (row[0], row[1]))  # one lock order for every writer
        self.repository.add_events(event_rows)
        self.repository.add_merge_audit(merge_audit)
        self.repository.add_refusals(refusals)
        self.repository.upsert_products(_product_rows(fresh))
        self.repository.add_outbox(self.stream, self._records)
        self._finish_duplicates()
        return self.outcomes

    def _deduplicate(self, events: list[ValidatedEvent]) -> list[ValidatedEvent]:
        """Drop events already received (earlier, or earlier in this batch): they are answered duplicate."""
        stored = self.repository.known_events([e.key for e in events])
        first_in_batch: dict[tuple[str, str], int] = {}
        fresh = []
        for event in events:
            if event.key in stored:
                self.outcomes[event.index] = Outcome(DUPLICATE, customer_id=stored[event.key] or "")
            elif event.key in first_in_batch:
                self.outcomes[event.index] = Outcome(DUPLICATE, duplicate_of=first_in_batch[event.key])
            else:
                first_in_batch[event.key] = event.index
                fresh.append(event)
        return fresh

    def _identity_graph(self, events: list[ValidatedEvent], owners: dict[Identifier, str]) -> IdentityGraph:
        """The graph loaded with the owners of the batch's identifiers, and the state of the customers the
        rules will consult: those an event adds identifiers to or may merge (not those merely recognised)."""
        graph = IdentityGraph(self.policy, self.new_id)
        consulted: set[str] = set()
        for event in events:
            holders = {owners[i] for i in event.identifiers if i in owners}
            if len(holders) > 1 or len(holders) < len(set(event.identifiers)):
                consulted |= holders
        states, pairs = self.repository.customer_states(sorted(consulted)) if consulted else ([], [])
        graph.load(owners, states, pairs)
        return graph

    def _refuse_erased(self, events: list[ValidatedEvent], owners: dict[Identifier, str]) -> list[ValidatedEvent]:
        """Refuse events naming an erased person's identifier (their identifiers are held by nobody any more)."""
        unheld = {identifier_hash(*i) for e in events for i in e.identifiers if i not in owners}
        suppressed = self.repository.suppressed_among(sorted(unheld))
        if not suppressed:
            return events
        kept = []
        for event in events:
            erased = [position for position, identifier in enumerate(event.identifiers)
                      if identifier not in owners and identifier_hash(*identifier) in suppressed]
            if erased:
                errors = [(f"identifiers[{position}].value", ERASED_REASON) for position in erased]
                self.outcomes[event.index] = Outcome(REJECTED, errors=errors)
            else:
                kept.append(event)
        return kept

    def _known_products(self, events: list[ValidatedEvent]) -> set[str]:
        wanted = {p for e in events for p in e.product_ids}
        if not wanted:
            return set()
        in_batch = {e.event.product_upsert.product_id for e in events if e.kind == "product_upsert"}
        return self.repository.known_products(wanted - in_batch) | in_batch

    def _merged(self, resolution: Resolution, event: ValidatedEvent, audit: list[dict]) -> None:
        for merge in resolution.merges:
            record_id = handoff.merge_record_id(merge.survivor_id, merge.merged_ids)
            self._records.append(handoff.customers_merged(merge.survivor_id, merge.merged_ids,
                                                          event.event.event_id, self.now, self.trace_context))
            audit.append({"record_id": record_id, "survivor_id": merge.survivor_id,
                          "merged_ids": " ".join(merge.merged_ids), "cause_source": event.event.source,
                          "cause_event_id": event.event.event_id, "merged_at": self.now})

    def _persist_identity(self, graph: IdentityGraph) -> None:
        self.repository.add_customers([
            (c.customer_id, c.created_at, None, c.type_counts) if graph.find(c.customer_id) == c.customer_id
            else (c.customer_id, c.created_at, graph.find(c.customer_id), {})
            for c in graph.created
        ])
        self.repository.change_counts(graph.count_changes())
        self.repository.merge({merged: graph.find(merged) for m in graph.merges for merged in m.merged_ids})
        self.repository.add_identifiers(sorted(
            (kind, value, graph.find(owner), self.now) for (kind, value), owner in graph.attached.items()
        ))

    def _finish_duplicates(self) -> None:
        """Repeats inside the batch get the customer of their first copy."""
        for outcome in self.outcomes.values():
            if outcome.duplicate_of is not None:
                outcome.customer_id = self.outcomes[outcome.duplicate_of].customer_id

    def stats(self, events: list[ValidatedEvent]) -> Counter[tuple[str, str, str]]:
        """Counts by (source, status, reason); a rejected event counts once under each distinct reason."""
        counts: Counter[tuple[str, str, str]] = Counter()
        for event in events:
            outcome = self.outcomes[event.index]
            source = event.event.source if event.event.source and len(event.event.source) <= 64 else "(invalid)"
            if outcome.status == REJECTED:
                for reason in sorted({stats_reason(path, why) for path, why in outcome.errors}):
                    counts[(source, REJECTED, reason)] += 1
            else:
                counts[(source, outcome.status, "")] += 1
        return counts


def _refusal_rows(resolution: Resolution, event: ValidatedEvent, now: datetime) -> list[dict]:
    return [
        {"reason": refusal.reason, "customer_ids": " ".join(refusal.customer_ids),
         "identifier_type": refusal.identifier_type, "cause_source": event.event.source,
         "cause_event_id": event.event.event_id, "refused_at": now}
        for refusal in resolution.refusals
    ]


def _product_rows(events: list[ValidatedEvent]) -> list[dict]:
    latest: dict[str, dict] = {}
    for event in events:
        if event.kind != "product_upsert" or event.event_time is None:
            continue
        product = event.event.product_upsert
        row = {"product_id": product.product_id, "name": product.name, "category": product.category,
               "deleted": product.deleted, "updated_at": event.event_time, "payload": product.SerializeToString()}
        if product.product_id not in latest or latest[product.product_id]["updated_at"] <= event.event_time:
            latest[product.product_id] = row
    return [latest[key] for key in sorted(latest)]
