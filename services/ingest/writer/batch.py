"""What one transaction does with the batches of the calls grouped in it: de-duplicate, resolve identities,
store events and hand them off.

Everything is set-based: a handful of statements per transaction whatever its size. Each call's batch
(`calls.Submission`) keeps its own receive time and trace context, and gets its own outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from uuid_utils import uuid7

from declic.kit.identifiers import identifier_hash
from services.ingest import handoff
from services.ingest.domain.identity import CustomerState, Identifier, IdentityGraph, IdentityPolicy, Resolution
from services.ingest.storage.repository import IngestRepository
from services.ingest.validation import CATALOGUE_KINDS, ValidatedEvent
from services.ingest.writer.calls import ACCEPTED, DUPLICATE, REJECTED, Outcome, Submission
from services.ingest.writer.identity_cache import IdentityCache

ERASED_REASON = "belongs to an erased person (right to erasure): not accepted again"

_PENDING = Outcome("")


def _no_rows(row: object) -> None:
    raise AssertionError("no event to store")


def new_customer_id() -> str:
    """A UUIDv7 (32 hex digits): time-ordered, so new customers' keys are appended at the end of the indexes on
    customer ids instead of anywhere in them; unique across processes and replicas (74 random bits per ms)."""
    return uuid7().hex


@dataclass
class BatchWriter:
    """Applies validated events to the database within the caller's transaction."""

    repository: IngestRepository
    policy: IdentityPolicy
    stream: str
    new_id: Callable[[], str] = new_customer_id
    outcomes: list[Outcome] = field(default_factory=list)
    """By position in the concatenation of the submissions' events."""
    _records: list[bytes] = field(default_factory=list)
    _calls: list[int] = field(default_factory=list)
    """The submission of each event (its index in `_submissions`), by position."""
    _submissions: list[Submission] = field(default_factory=list)
    cache: IdentityCache = field(default_factory=IdentityCache)
    """What earlier transactions learnt (kept by the caller between transactions; see identity_cache)."""
    _learnt_owners: dict[Identifier, str | None] = field(default_factory=dict)
    _learnt_states: list[CustomerState] = field(default_factory=list)
    _learnt_pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _learnt_products: dict[str, bool] = field(default_factory=dict)
    _graph: IdentityGraph | None = None
    _upserts: list[ValidatedEvent] = field(default_factory=list)
    """The fresh catalogue events."""
    _repeats: bool = False
    """Whether an event repeats another of the same transaction."""
    look_up_duplicates: bool = True
    """False: take every event as new without asking the database (one statement less); an event received
    before then fails the transaction on the events' key, and the caller replays it with look-ups."""
    found_received: bool = False
    """Whether the look-up found events of these batches received before."""

    def remember(self, version: int) -> None:
        """After the commit (at `version` of the graph): keep what this transaction read and changed."""
        if self._graph is not None:
            self.cache.commit(version, self._learnt_owners, self._learnt_states, self._learnt_pairs, self._graph,
                              self._learnt_products)

    def apply(self, submissions: list[Submission]) -> list[list[Outcome]]:
        """Apply the submissions; returns, for each, an outcome per event in order (rejected ones included)."""
        events: list[ValidatedEvent] = []
        self._submissions = submissions
        for call, submission in enumerate(submissions):
            for event in submission.events:
                event.position = len(events)
                events.append(event)
            self._calls.extend([call] * len(submission.events))
        self.outcomes = [_PENDING] * len(events)
        self._apply(events)
        outcomes = iter(self.outcomes)
        return [[next(outcomes) for _ in submission.events] for submission in submissions]

    def _apply(self, events: list[ValidatedEvent]) -> None:
        valid = [e for e in events if not e.errors]
        fresh = self._deduplicate(valid)
        owners, unchecked = self._owners({i for e in fresh if e.kind not in CATALOGUE_KINDS for i in e.identifiers})
        fresh = self._refuse_erased(fresh, owners, unchecked)
        graph = self._graph = self._identity_graph(fresh, owners)
        known_products = self._known_products(fresh)
        submissions, calls, outcomes, records = self._submissions, self._calls, self.outcomes, self._records
        encoders = [handoff.AcceptedEventEncoder(s.received_at, s.trace_context).encode for s in submissions]
        resolve = graph.resolve
        merge_audit: list[dict] = []
        refusals: list[dict] = []
        # The event rows go to the database while the next events are resolved (one COPY, open during the loop).
        with self.repository.event_writer() if fresh else nullcontext(_no_rows) as add_event:
            for event in fresh:
                call = calls[event.position]
                received_at = submissions[call].received_at
                warnings = list(event.warnings)
                customer_id, new_customer = "", False
                if event.kind not in CATALOGUE_KINDS:
                    resolution = resolve(event.identifiers, received_at)
                    if resolution.merges:
                        self._merged(resolution, event, submissions[call], merge_audit)
                    if resolution.refusals:
                        refusals.extend(_refusal_rows(resolution, event, received_at))
                    customer_id, new_customer = resolution.customer_id, resolution.new_customer
                    warnings.extend(resolution.warnings)
                for product_id in event.product_ids:
                    if product_id not in known_products:
                        warnings.append(f"unknown_product:{product_id}")
                outcomes[event.position] = Outcome(ACCEPTED, customer_id, new_customer, [], warnings)
                source, event_id = event.key
                add_event((source, event_id, customer_id or None, event.kind, event.event_time, received_at,
                           event.payload))
                records.append(encoders[call](source, event_id, event.payload, customer_id, new_customer, warnings))
        if len(valid) < len(events):
            for event in events:
                if event.errors:
                    outcomes[event.position] = Outcome(REJECTED, errors=list(event.errors))
        self._persist_identity(graph)
        self.repository.add_merge_audit(merge_audit)
        self.repository.add_refusals(refusals)
        self.repository.upsert_products(_product_rows(self._upserts))
        self.repository.add_outbox(self.stream, records)
        if self._repeats:
            self._finish_duplicates()

    def _deduplicate(self, events: list[ValidatedEvent]) -> list[ValidatedEvent]:
        """Drop events already received (earlier, or earlier in these batches): they are answered duplicate."""
        stored = self.repository.known_events([e.key for e in events]) if self.look_up_duplicates else {}
        self.found_received = bool(stored)
        first_seen: dict[tuple[str, str], int] = {}
        fresh = []
        for event in events:
            if event.key in stored:
                self.outcomes[event.position] = Outcome(DUPLICATE, customer_id=stored[event.key] or "")
            elif event.key in first_seen:
                self.outcomes[event.position] = Outcome(DUPLICATE, duplicate_of=first_seen[event.key])
                self._repeats = True
            else:
                first_seen[event.key] = event.position
                fresh.append(event)
        return fresh

    def _owners(self, wanted: set[Identifier]) -> tuple[dict[Identifier, str], list[Identifier]]:
        """The current owners of the held identifiers among `wanted`, and the identifiers nobody holds that
        were not checked against the erased ones yet."""
        owners: dict[Identifier, str] = {}
        misses = []
        cached, current = self.cache.owners, self.cache.current
        for identifier in wanted:
            if identifier not in cached:
                misses.append(identifier)
            elif (owner := cached[identifier]) is not None:
                owners[identifier] = current(owner)
        found = self.repository.owners(misses) if misses else {}
        owners.update(found)
        self._learnt_owners.update(found)
        return owners, [identifier for identifier in misses if identifier not in found]

    def _identity_graph(self, events: list[ValidatedEvent], owners: dict[Identifier, str]) -> IdentityGraph:
        """The graph loaded with the owners of the batch's identifiers, and the state of the customers the
        rules will consult: those an event adds identifiers to or may merge (not those merely recognised)."""
        graph = IdentityGraph(self.policy, self.new_id)
        consulted: set[str] = set()
        for event in events:
            holders = {owners.get(i) for i in event.identifiers}
            if len(holders) > 1:  # several customers, or identifiers nobody holds yet (None)
                holders.discard(None)
                consulted |= holders  # type: ignore[arg-type]
        cached_states, cached_pairs = self.cache.states, self.cache.pairs
        known = [c for c in consulted if c in cached_states and c in cached_pairs]
        missing = sorted(consulted.difference(known))
        states, pairs = self.repository.customer_states(missing) if missing else ([], [])
        self._learnt_states = states
        self._learnt_pairs = {c: [p for p in pairs if c in p] for c in missing}
        graph.load(owners, [cached_states[c] for c in known] + states,
                   pairs + [p for c in known for p in cached_pairs[c]])
        return graph

    def _refuse_erased(self, events: list[ValidatedEvent], owners: dict[Identifier, str],
                       unchecked: list[Identifier]) -> list[ValidatedEvent]:
        """Refuse events naming an erased person's identifier (their identifiers are held by nobody any more).
        Only `unchecked` identifiers can be: the others are held, or were found not erased before."""
        hashes = {identifier: identifier_hash(*identifier) for identifier in unchecked}
        suppressed = self.repository.suppressed_among(sorted(set(hashes.values())))
        self._learnt_owners.update((i, None) for i, h in hashes.items() if h not in suppressed)
        if not suppressed:
            return events
        kept = []
        for event in events:
            erased = [position for position, identifier in enumerate(event.identifiers)
                      if identifier in hashes and hashes[identifier] in suppressed]
            if erased:
                errors = [(f"identifiers[{position}].value", ERASED_REASON) for position in erased]
                self.outcomes[event.position] = Outcome(REJECTED, errors=errors)
            else:
                kept.append(event)
        return kept

    def _known_products(self, events: list[ValidatedEvent]) -> set[str]:
        self._upserts = [e for e in events if e.kind == "product_upsert"]
        wanted = {p for e in events for p in e.product_ids}
        if not wanted:
            return set()
        in_batch = {e.event.product_upsert.product_id for e in self._upserts}
        cached = self.cache.products
        unknown = [p for p in wanted - in_batch if p not in cached]
        found = self.repository.known_products(unknown) if unknown else set()
        self._learnt_products = {p: p in found for p in unknown}
        self._learnt_products.update(dict.fromkeys(in_batch, True))
        return {p for p in wanted if cached.get(p) or p in found} | in_batch

    def _merged(self, resolution: Resolution, event: ValidatedEvent, call: Submission, audit: list[dict]) -> None:
        for merge in resolution.merges:
            record_id = handoff.merge_record_id(merge.survivor_id, merge.merged_ids)
            self._records.append(handoff.customers_merged(merge.survivor_id, merge.merged_ids, event.key[1],
                                                          call.received_at, call.trace_context))
            audit.append({"record_id": record_id, "survivor_id": merge.survivor_id,
                          "merged_ids": " ".join(merge.merged_ids), "cause_source": event.key[0],
                          "cause_event_id": event.key[1], "merged_at": call.received_at})

    def _persist_identity(self, graph: IdentityGraph) -> None:
        self.repository.add_customers([
            (c.customer_id, c.created_at, None, c.type_counts) if graph.find(c.customer_id) == c.customer_id
            else (c.customer_id, c.created_at, graph.find(c.customer_id), {})
            for c in graph.created
        ])
        self.repository.change_counts(graph.count_changes())
        self.repository.merge({merged: graph.find(merged) for m in graph.merges for merged in m.merged_ids})
        now = max(call.received_at for call in self._submissions)
        self.repository.add_identifiers(sorted(
            (kind, value, graph.find(owner), now) for (kind, value), owner in graph.attached.items()
        ))

    def _finish_duplicates(self) -> None:
        """Repeats inside the batch get the customer of their first copy."""
        for outcome in self.outcomes:
            if outcome.duplicate_of is not None:
                outcome.customer_id = self.outcomes[outcome.duplicate_of].customer_id


def _refusal_rows(resolution: Resolution, event: ValidatedEvent, now: datetime) -> list[dict]:
    return [
        {"reason": refusal.reason, "customer_ids": " ".join(refusal.customer_ids),
         "identifier_type": refusal.identifier_type, "cause_source": event.key[0],
         "cause_event_id": event.key[1], "refused_at": now}
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
