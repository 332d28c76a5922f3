"""Customers, their identifiers, consents and blocked addresses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.orm import Session

from declic.kit.database import insert_for
from services.profile.domain.commands import UpdateContact
from services.profile.domain.computed import infer_timezone
from services.profile.domain.consents import Consent, supersedes
from services.profile.domain.contact import apply_contact_update, birth_month_day
from services.profile.domain.contactability import Contactability, contactability_by_channel
from services.profile.storage.tables import (
    ACTIVE,
    channel_blocks,
    consent_history,
    consents,
    customers,
    identifiers,
)

MAX_MERGE_CHAIN = 20


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- finding -------------------------------------------------------------------------------
    def resolve(self, customer_id: str) -> tuple[str, str] | None:
        """(surviving customer id, status) following merges; None when never seen."""
        current = customer_id
        for _ in range(MAX_MERGE_CHAIN):
            row = self._session.execute(
                select(customers.c.status, customers.c.survivor_id).where(customers.c.customer_id == current)
            ).first()
            if row is None:
                return None
            if row.survivor_id is None:
                return current, row.status
            current = row.survivor_id
        raise RuntimeError(f"merge chain longer than {MAX_MERGE_CHAIN} from {customer_id}")

    def row(self, customer_id: str) -> Any:
        return self._session.execute(select(customers).where(customers.c.customer_id == customer_id)).first()

    def lock(self, customer_id: str) -> Any:
        """The customer row, locked until commit (PostgreSQL; SQLite already serialises writers)."""
        query = select(customers).where(customers.c.customer_id == customer_id)
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return self._session.execute(query).first()

    def identifiers_of(self, customer_id: str) -> list[tuple[str, str]]:
        rows = self._session.execute(
            select(identifiers.c.id_type, identifiers.c.value)
            .where(identifiers.c.customer_id == customer_id)
            .order_by(identifiers.c.id_type, identifiers.c.value)
        )
        return [(row.id_type, row.value) for row in rows]

    def consents_of(self, customer_id: str) -> dict[str, Consent]:
        rows = self._session.execute(select(consents).where(consents.c.customer_id == customer_id))
        return {row.channel: _consent(row) for row in rows}

    def consent_history_of(self, customer_id: str) -> list[tuple[Consent, datetime, str]]:
        """Every consent recorded for the person: (consent, recorded_at, origin), oldest first."""
        rows = self._session.execute(
            select(consent_history)
            .where(consent_history.c.customer_id == customer_id)
            .order_by(consent_history.c.given_at, consent_history.c.id)
        )
        return [(_consent(row), row.recorded_at, row.origin) for row in rows]

    def blocks_of(self, customer_id: str) -> dict[tuple[str, str], str]:
        rows = self._session.execute(select(channel_blocks).where(channel_blocks.c.customer_id == customer_id))
        return {(row.channel, row.address): row.reason for row in rows}

    # --- changing ------------------------------------------------------------------------------
    def ensure(self, customer_id: str, seen_at: datetime, now: datetime) -> None:
        """Create the customer if new and remember the earliest event seen for them. Being an upsert, it
        also locks their row until commit on PostgreSQL — even when the WHERE leaves the row unchanged,
        which is the usual case and spares rewriting a row of a large table."""
        statement = insert_for(self._session, customers).values(
            customer_id=customer_id, status=ACTIVE, first_seen_at=seen_at, updated_at=now)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["customer_id"], set_={"first_seen_at": statement.excluded.first_seen_at},
            where=or_(customers.c.first_seen_at.is_(None),
                      statement.excluded.first_seen_at < customers.c.first_seen_at),
        ))

    def update_contact(self, customer_id: str, change: UpdateContact, event_time: datetime, now: datetime) -> None:
        row = self.lock(customer_id)
        changes = apply_contact_update(json.loads(row.attributes), json.loads(row.field_times), change, event_time)
        values: dict[str, Any] = dict(changes.fields)
        if "birth_date" in values:
            month_day = birth_month_day(values["birth_date"])
            values["birth_month"], values["birth_day"] = month_day or (None, None)
        values.update(
            attributes=json.dumps(changes.attributes, sort_keys=True),
            field_times=json.dumps(changes.field_times, sort_keys=True),
            updated_at=now,
        )
        self._session.execute(update(customers).where(customers.c.customer_id == customer_id).values(**values))

    def add_identifiers(self, customer_id: str, found: Sequence[tuple[str, str]],
                        seen_at: datetime) -> tuple[bool, list[str]]:
        """Attach identifiers to the customer: (whether any was new, the types of those owned by someone
        else — left alone: ingest decides identity, and tells us with a merge)."""
        wanted = list(dict.fromkeys(found))
        if not wanted:
            return False, []
        owners = dict(((row.id_type, row.value), row.customer_id) for row in self._session.execute(
            select(identifiers.c.id_type, identifiers.c.value, identifiers.c.customer_id)
            .where(tuple_(identifiers.c.id_type, identifiers.c.value).in_(wanted))))
        missing = [key for key in wanted if key not in owners]
        if missing:
            self._session.execute(
                insert_for(self._session, identifiers).on_conflict_do_nothing(index_elements=["id_type", "value"]),
                [dict(id_type=t, value=v, customer_id=customer_id, first_seen_at=seen_at) for t, v in missing],
            )
        return bool(missing), [key[0] for key, owner in owners.items() if owner != customer_id]

    def record_consent(self, customer_id: str, consent: Consent, origin: str, now: datetime) -> bool:
        """Keep the consent in the history (proof, GDPR Art. 7); put it in force if it is the newest.

        Returns True when the consent in force changed.
        """
        self.add_history(customer_id, consent, origin, now)
        current = self.consents_of(customer_id).get(consent.channel)
        if not supersedes(consent, current):
            return False
        self.put_consent(customer_id, consent)
        return True

    def add_history(self, customer_id: str, consent: Consent, origin: str, now: datetime) -> None:
        self._session.execute(
            consent_history.insert().values(
                customer_id=customer_id, channel=consent.channel, state=consent.state,
                legal_basis=consent.legal_basis, source=consent.source[:200], given_at=consent.given_at,
                recorded_at=now, origin=origin[:200],
            )
        )

    def put_consent(self, customer_id: str, consent: Consent) -> None:
        values = dict(state=consent.state, legal_basis=consent.legal_basis, source=consent.source[:200],
                      given_at=consent.given_at)
        self._session.execute(
            insert_for(self._session, consents)
            .values(customer_id=customer_id, channel=consent.channel, **values)
            .on_conflict_do_update(index_elements=["customer_id", "channel"], set_=values)
        )

    def block(self, customer_id: str, channel: str, address: str, reason: str, at: datetime) -> None:
        self._session.execute(
            insert_for(self._session, channel_blocks)
            .values(customer_id=customer_id, channel=channel, address=address, reason=reason, blocked_at=at)
            .on_conflict_do_nothing(index_elements=["customer_id", "channel", "address"])
        )

    def refresh_derived(self, customer_id: str) -> dict[str, Contactability]:
        """Recompute what segment queries filter on and is derived from identifiers, consents and blocks:
        the per-channel contactable flags and the zone inferred from the phone number."""
        row = self.row(customer_id)
        found = self.identifiers_of(customer_id)
        result = contactability_by_channel(found, json.loads(row.attributes), self.consents_of(customer_id),
                                           self.blocks_of(customer_id))
        zone = infer_timezone(found)
        self._session.execute(
            update(customers)
            .where(customers.c.customer_id == customer_id)
            .values(inferred_timezone=zone,
                    **{f"{channel}_contactable": state.contactable for channel, state in result.items()})
        )
        return result


def _consent(row: Any) -> Consent:
    return Consent(channel=row.channel, state=row.state, legal_basis=row.legal_basis, source=row.source,
                   given_at=row.given_at)
