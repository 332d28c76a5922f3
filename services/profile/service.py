"""Profile's service layer: the call-center summary, lookups, GDPR export and erasure."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.errors import InvalidArgument, NotFound, quoted
from declic.kit.identifiers import InvalidIdentifier, normalise_identifier
from declic.kit.protoconv import to_timestamp
from services.profile.domain.appetence import decay
from services.profile.domain.computed import appetences_now, compute_attributes, effective_timezone, preferred_channel
from services.profile.domain.consents import Consent
from services.profile.domain.contactability import contactability_by_channel
from services.profile.domain.orders import OrderStats, to_epoch
from services.profile.domain.rules import ProfileRules
from services.profile.domain.segments import SegmentSpec
from services.profile.domain.summary import ProfileSummary
from services.profile.storage.customers import CustomerRepository
from services.profile.storage.erasure import ErasureRepository
from services.profile.storage.facts import FactRepository
from services.profile.storage.reader import SummaryReader
from services.profile.storage.segments import segment_query, stream_ids
from services.profile.storage.tables import ERASED


class ProfileService:
    def __init__(self, uow: UnitOfWork, clock: Clock, rules: ProfileRules, *, default_region: str,
                 handoff_stream: str, privacy_stream: str = "", reads: UnitOfWork | None = None,
                 on_outbox_written: Callable[[], None] = lambda: None) -> None:
        self._uow = uow
        # Lookups read through `reads` (autocommit: no BEGIN/ROLLBACK round trips).
        self._reads = reads or uow
        self._on_outbox_written = on_outbox_written
        self._clock = clock
        self._rules = rules
        self._default_region = default_region
        self._handoff_stream = handoff_stream
        self._privacy_stream = privacy_stream

    # --- reading -------------------------------------------------------------------------------
    def get(self, customer_id: str, as_of: datetime | None = None) -> ProfileSummary:
        """The summary of a customer (a merged-away id gives its survivor)."""
        if not customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        with self._reads.begin() as session:
            reader = SummaryReader(session)
            row = self._usable(reader, reader.by_id(customer_id), f"no customer {quoted(customer_id)}", customer_id)
            return self._summary(reader, row, as_of or self._clock.now())

    def lookup(self, id_type: str, raw_value: str, as_of: datetime | None = None) -> ProfileSummary:
        """"Who is calling?": by any identifier in any usual format."""
        value = self.normalise(id_type, raw_value)
        with self._reads.begin() as session:
            reader = SummaryReader(session)
            missing = f"no customer with {id_type.replace('_', ' ')} {quoted(value)} (as normalised)"
            row = self._usable(reader, reader.by_identifier(id_type, value), missing, value)
            return self._summary(reader, row, as_of or self._clock.now())

    def normalise(self, id_type: str, raw_value: str) -> str:
        try:
            return normalise_identifier(id_type, raw_value, self._default_region)
        except InvalidIdentifier as exc:
            raise InvalidArgument.field("identifier.value", str(exc)) from None

    @staticmethod
    def _usable(reader: SummaryReader, row: Any, missing: str, asked: str) -> Any:
        """The surviving, non-erased row, or NOT_FOUND saying why."""
        row = reader.surviving(row)
        if row is None:
            raise NotFound(missing)
        if row.status == ERASED:
            raise NotFound(f"customer {quoted(asked)} was erased (GDPR)")
        return row

    def _surviving(self, session: Session, customer_id: str) -> str:
        if not customer_id:
            raise InvalidArgument.field("customer_id", "is required")
        found = CustomerRepository(session).resolve(customer_id)
        if found is None:
            raise NotFound(f"no customer {quoted(customer_id)}")
        if found[1] == ERASED:
            raise NotFound(f"customer {quoted(customer_id)} was erased (GDPR)")
        return found[0]

    def _summary(self, reader: SummaryReader, row: Any, as_of: datetime) -> ProfileSummary:
        rules = self._rules
        as_of_ts = to_epoch(as_of)
        window_start = to_epoch(as_of - timedelta(days=rules.rfm.window_days))
        stored = reader.load(row, rules.last_orders_shown, window_start, as_of_ts)
        attributes = json.loads(row.attributes)
        contactability = list(contactability_by_channel(stored.identifiers, attributes, stored.consents,
                                                        stored.blocks).values())
        stats = OrderStats(row.order_count, row.first_order_ts, row.last_order_ts, row.monetary_cents,
                           row.discounted_order_count, row.currency)
        stage, rfm, explanations = compute_attributes(stats, stored.window_orders, stored.window_cents, as_of, rules)
        preferred, preferred_why = preferred_channel(stored.engagement, contactability)
        timezone, timezone_why = effective_timezone(row.timezone, row.inferred_timezone, rules.default_timezone)
        explanations.update(preferred_channel=preferred_why, timezone=timezone_why,
                            locale="given by the person (identify)" if row.locale else "unknown: never given",
                            appetences=f"decayed sums (half-life {rules.appetence.half_life_days:g} days) of views "
                                       f"×{rules.appetence.view_weight:g}, cart adds ×{rules.appetence.cart_weight:g},"
                                       f" purchases ×{rules.appetence.purchase_weight:g}")
        for state in contactability:
            explanations[f"contactability.{state.channel}"] = state.reason
        half_life = rules.appetence.half_life_days
        scores = [(dimension, value, decay(score, anchor, as_of_ts, half_life))
                  for dimension, value, score, anchor in stored.appetences]
        return ProfileSummary(
            customer_id=row.customer_id, identifiers=stored.identifiers, first_name=row.first_name,
            last_name=row.last_name, birth_date=row.birth_date, locale=row.locale, timezone=timezone,
            attributes=attributes, consents=[stored.consents[channel] for channel in sorted(stored.consents)],
            contactability=contactability, created_at=row.first_seen_at, stats=stats, lifecycle_stage=stage,
            rfm=rfm, rfm_window_days=rules.rfm.window_days, as_of=as_of, appetences=appetences_now(scores),
            preferred_channel=preferred, last_orders=stored.last_orders, explanations=explanations,
        )

    # --- segments ------------------------------------------------------------------------------
    def segment(self, spec: SegmentSpec, as_of: datetime | None, batch_size: int) -> Iterator[list[str]]:
        """Ids of the customers in the segment at `as_of` (default now), in batches, as one SQL query."""
        query = segment_query(spec, as_of or self._clock.now(), self._rules.lifecycle, self._rules.default_timezone)
        with self._uow.begin() as session:
            yield from stream_ids(session, query, batch_size)  # server-side cursor: memory stays flat

    # --- GDPR ----------------------------------------------------------------------------------
    def export(self, customer_id: str) -> dict[str, Any]:
        """Everything held about the person (GDPR Art. 15/20), as JSON-ready data."""
        now = self._clock.now()
        with self._uow.begin() as session:
            surviving = self._surviving(session, customer_id)
            customers, facts = CustomerRepository(session), FactRepository(session)
            row = dict(customers.row(surviving)._mapping)
            row["attributes"] = json.loads(row["attributes"])
            row.pop("field_times")
            history = [
                {**consent.__dict__, "recorded_at": recorded_at, "origin": origin}
                for consent, recorded_at, origin in customers.consent_history_of(surviving)
            ]
            data = {
                "exported_at": now,
                "customer": row,
                "identifiers": [{"type": t, "value": v} for t, v in customers.identifiers_of(surviving)],
                "consents": [c.__dict__ for c in customers.consents_of(surviving).values()],
                "consent_history": history,
                "blocked_addresses": [{"channel": c, "address": a, "reason": r}
                                      for (c, a), r in customers.blocks_of(surviving).items()],
                "orders": facts.orders_of(surviving),
                "engagement": facts.engagement_of(surviving),
                "appetences": [{"dimension": d, "value": v, "score": s} for d, v, s in
                               facts.appetence_scores(surviving, to_epoch(now), self._rules.appetence.half_life_days)],
            }
        return json.loads(json.dumps(data, default=_json_default))

    def erase(self, customer_id: str) -> tuple[str, list[str]]:
        """Erase the person; keep hashes of their identifiers; tell every service through the hand-off, and
        ingest also through the privacy stream (erasures only: ingest need not read every record to find them)."""
        now = self._clock.now()
        with self._uow.begin() as session:
            surviving = self._surviving(session, customer_id)
            erasure = ErasureRepository(session)
            hashes = erasure.erase(surviving, (), now)
            record = handoff_pb2.HandoffRecord(
                record_id=f"profile-erase-{surviving}", recorded_at=to_timestamp(now),
                customer_erased=handoff_pb2.CustomerErased(customer_id=surviving, identifier_hashes=hashes),
            )
            for stream in filter(None, (self._handoff_stream, self._privacy_stream)):
                erasure.enqueue(stream, record.SerializeToString())
            session.commit()
        self._on_outbox_written()
        return surviving, hashes

    def consent_history(self, customer_id: str, limit: int, after: tuple[datetime, int] | None = None
                        ) -> tuple[str, list[tuple[tuple[datetime, int], Consent, datetime, str]]]:
        """(surviving id, `limit` consents recorded after the (given_at, id) `after`, oldest first: ((given_at,
        id), consent, recorded_at, origin))."""
        with self._uow.begin() as session:
            surviving = self._surviving(session, customer_id)
            return surviving, CustomerRepository(session).consent_history_page(surviving, limit, after)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")
