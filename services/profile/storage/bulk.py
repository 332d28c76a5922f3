"""Set-based reads and writes for many customers at once: one statement per table for a whole batch of
hand-off events, instead of one per event (see services/profile/intake/events.py). No rules here."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from declic.kit.sql_sets import copy_rows, update_by_key
from services.profile.domain.appetence import fold_signals
from services.profile.domain.computed import infer_timezone
from services.profile.domain.consents import Consent
from services.profile.domain.contactability import contactability_by_channel
from services.profile.storage import batch_statements as statements
from services.profile.storage.tables import ACTIVE, consent_history, customers, order_lines

MAX_MERGE_CHAIN = 20
AppetenceKey = tuple[str, str, str]  # customer id, dimension, value
Signal = tuple[AppetenceKey, float, int]  # key, weight, at (epoch seconds)
LINE_COLUMNS = [column.name for column in order_lines.columns]
HISTORY_COLUMNS = ["customer_id", "channel", "state", "legal_basis", "source", "given_at", "recorded_at", "origin"]


@dataclass
class StaleFigures:
    """Customers whose derived columns a batch has made stale: order figures (their orders changed), and
    contactability and inferred zone (their addresses, consents, blocks or postal address may have). Both are
    functions of what is stored, so they are recomputed once, at the end of the batch (`BulkRepository.refresh`)."""

    orders: set[str] = field(default_factory=set)
    reachability: set[str] = field(default_factory=set)


class BulkRepository:
    """Rows written in key order, so that two consumers writing overlapping batches wait for each other
    instead of deadlocking."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # --- reading -------------------------------------------------------------------------------
    def resolve(self, customer_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """id → (surviving id, status), following merges; ids never seen (or leading nowhere) are absent."""
        wanted = set(customer_ids)
        rows: dict[str, tuple[str, str | None]] = {}
        frontier = set(wanted)
        for _ in range(MAX_MERGE_CHAIN + 1):
            if not frontier:
                break
            found = {customer_id: (status, survivor_id)
                     for customer_id, status, survivor_id in statements.STATUS_OF.tuples(self._session, frontier)}
            rows.update(found)
            frontier = {survivor for _, survivor in found.values() if survivor is not None} - rows.keys()
        resolved = {}
        for customer_id in wanted:
            current = customer_id
            for _ in range(MAX_MERGE_CHAIN):
                if current not in rows:
                    break
                status, survivor = rows[current]
                if survivor is None:
                    resolved[customer_id] = (current, status)
                    break
                current = survivor
            else:
                raise RuntimeError(f"merge chain longer than {MAX_MERGE_CHAIN} from {customer_id}")
        return resolved

    def suppressed(self, hashes: Collection[str]) -> set[str]:
        """Those of `hashes` that belong to an erased person."""
        if not hashes:
            return set()
        return {identifier_hash for identifier_hash, in statements.SUPPRESSED.tuples(self._session, hashes)}

    def owners(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(type, value) → the customer holding that identifier, for those held."""
        if not keys:
            return {}
        return {(id_type, value): customer_id
                for id_type, value, customer_id in statements.OWNERS.tuples(self._session, keys)}

    def rows(self, customer_ids: Collection[str]) -> dict[str, Any]:
        if not customer_ids:
            return {}
        return {row.customer_id: row for row in statements.CUSTOMER_ROWS.execute(self._session, customer_ids)}

    def consents(self, customer_ids: Collection[str]) -> dict[tuple[str, str], Consent]:
        """(customer id, channel) → the consent in force."""
        if not customer_ids:
            return {}
        return {(row.customer_id, row.channel): Consent(row.channel, row.state, row.legal_basis, row.source,
                                                        row.given_at)
                for row in statements.CONSENTS_OF.execute(self._session, customer_ids)}

    def appetences(self, keys: Collection[AppetenceKey]) -> dict[AppetenceKey, tuple[float, int]]:
        """(customer id, dimension, value) → (score, anchor_ts), for those stored."""
        if not keys:
            return {}
        return {(row.customer_id, row.dimension, row.value): (row.score, row.anchor_ts)
                for row in statements.APPETENCES_OF.execute(self._session, keys)}

    # --- writing -------------------------------------------------------------------------------
    def ensure(self, first_seen: Mapping[str, datetime], now: datetime) -> None:
        """Create the customers that are new and remember the earliest event seen for each. Being an upsert, it
        also locks their rows until commit — even when the WHERE leaves a row unchanged, the usual
        case, which spares rewriting rows of a large table. Rows are taken in id order, so two consumers
        locking overlapping sets wait for each other instead of deadlocking."""
        statements.ENSURE.execute(self._session, [
            dict(customer_id=customer_id, status=ACTIVE, first_seen_at=seen_at, updated_at=now)
            for customer_id, seen_at in sorted(first_seen.items())])

    def add_identifiers(self, rows: Sequence[tuple[str, str, str, datetime]]) -> None:
        """(type, value, customer id, first seen) rows; an identifier already held stays with its holder."""
        statements.ADD_IDENTIFIERS.execute(self._session, [
            dict(id_type=id_type, value=value, customer_id=customer_id, first_seen_at=seen_at)
            for id_type, value, customer_id, seen_at in sorted(rows)])

    def add_orders(self, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
        """Store orders once (by order id and kind); returns the (order id, kind) of those that were new."""
        in_key_order = sorted(rows, key=lambda row: (row["order_id"], row["kind"]))
        result = statements.ADD_ORDERS.execute(self._session, in_key_order)
        return set() if result is None else {(row.order_id, row.kind) for row in result}

    def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        """The lines of new orders (COPY: they cannot exist yet)."""
        copy_rows(self._session, order_lines, LINE_COLUMNS, [[row[name] for name in LINE_COLUMNS] for row in rows])

    def add_engagement(self, counts: Mapping[tuple[str, str, str], tuple[int, datetime]]) -> None:
        """(customer id, channel, kind) → (how many more, latest time)."""
        statements.ADD_ENGAGEMENT.execute(self._session, [
            dict(customer_id=customer_id, channel=channel, kind=kind, count=count, last_at=last_at)
            for (customer_id, channel, kind), (count, last_at) in sorted(counts.items())])

    def add_signals(self, signals: Sequence[Signal], half_life_days: float) -> None:
        """Add appetence signals, in the given order, to the stored decayed sums (domain.appetence)."""
        if signals:
            sums = fold_signals(self.appetences({key for key, _, _ in signals}), signals, half_life_days)
            statements.PUT_APPETENCES.execute(self._session, [
                dict(customer_id=customer_id, dimension=dimension, value=value, score=score, anchor_ts=anchor)
                for (customer_id, dimension, value), (score, anchor) in sorted(sums.items())])

    def add_consent_history(self, rows: Sequence[tuple[str, Consent, str, datetime]]) -> None:
        """(customer id, consent, origin, recorded at) rows: the proof of every consent received."""
        copy_rows(self._session, consent_history, HISTORY_COLUMNS, [
            (customer_id, consent.channel, consent.state, consent.legal_basis, consent.source[:200], consent.given_at,
             recorded_at, origin[:200]) for customer_id, consent, origin, recorded_at in rows])

    def put_consents(self, in_force: Mapping[tuple[str, str], Consent]) -> None:
        """(customer id, channel) → the consent now in force."""
        statements.PUT_CONSENTS.execute(self._session, [dict(
            customer_id=customer_id, channel=channel, state=consent.state, legal_basis=consent.legal_basis,
            source=consent.source[:200], given_at=consent.given_at)
            for (customer_id, channel), consent in sorted(in_force.items())])

    def add_blocks(self, rows: Sequence[tuple[str, str, str, str, datetime]]) -> None:
        """(customer id, channel, address, reason, at) rows; an address already blocked keeps its reason (and
        the first of the batch's rows for an address is the one kept)."""
        first: dict[tuple[str, str, str], tuple[str, str, str, str, datetime]] = {}
        for row in rows:
            first.setdefault(row[:3], row)
        statements.ADD_BLOCKS.execute(self._session, [
            dict(customer_id=customer_id, channel=channel, address=address, reason=reason, blocked_at=at)
            for customer_id, channel, address, reason, at in sorted(first.values())])

    def update_customers(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """customer id → new column values; every change must name the same columns."""
        update_by_key(self._session, customers, "customer_id", changes)

    # --- derived figures -----------------------------------------------------------------------
    def refresh(self, stale: StaleFigures) -> None:
        self.refresh_order_stats(stale.orders)
        self.refresh_derived(stale.reachability)

    def refresh_order_stats(self, customer_ids: Collection[str]) -> None:
        """Recompute the customers' lifetime figures from their stored orders (order-independent), in one
        UPDATE … FROM (aggregate)."""
        if not customer_ids:
            return
        statements.REFRESH_ORDER_STATS.execute(self._session, customer_ids)

    def refresh_derived(self, customer_ids: Collection[str]) -> None:
        """Recompute what segment queries filter on and is derived from identifiers, consents and blocks: the
        per-channel contactable flags and the zone inferred from the phone number."""
        if not customer_ids:
            return
        stored = {row.customer_id: row for row in statements.DERIVED_OF.execute(self._session, customer_ids)}
        attributes = {customer_id: json.loads(row.attributes) for customer_id, row in stored.items()}
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in statements.IDENTIFIERS_OF.execute(self._session, customer_ids):
            found[row.customer_id].append((row.id_type, row.value))
        in_force: dict[str, dict[str, Consent]] = defaultdict(dict)
        for (customer_id, channel), consent in self.consents(customer_ids).items():
            in_force[customer_id][channel] = consent
        blocks: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
        for row in statements.BLOCKS_OF.execute(self._session, customer_ids):
            blocks[row.customer_id][(row.channel, row.address)] = row.reason
        changes = {}
        for customer_id in attributes:
            result = contactability_by_channel(found[customer_id], attributes[customer_id], in_force[customer_id],
                                               blocks[customer_id])
            derived = dict(inferred_timezone=infer_timezone(found[customer_id]),
                           **{f"{channel}_contactable": state.contactable for channel, state in result.items()})
            if any(getattr(stored[customer_id], name) != value for name, value in derived.items()):
                changes[customer_id] = derived  # most events change nothing derived: rows left as they are
        self.update_customers(changes)

