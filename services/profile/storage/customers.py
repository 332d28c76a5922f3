"""Customers, their identifiers, consents and blocked addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.profile.domain.consents import Consent
from services.profile.storage.bulk import BulkRepository
from services.profile.storage.tables import (
    channel_blocks,
    consent_history,
    consents,
    customers,
    identifiers,
)


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- finding -------------------------------------------------------------------------------
    def resolve(self, customer_id: str) -> tuple[str, str] | None:
        """(surviving customer id, status) following merges; None when never seen."""
        return BulkRepository(self._session).resolve([customer_id]).get(customer_id)

    def row(self, customer_id: str) -> Any:
        return self._session.execute(select(customers).where(customers.c.customer_id == customer_id)).first()

    def lock(self, customer_id: str) -> Any:
        """The customer row, locked until commit."""
        query = select(customers).where(customers.c.customer_id == customer_id).with_for_update()
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

    def consent_history_page(self, customer_id: str, limit: int, after: tuple[datetime, int] | None
                             ) -> list[tuple[tuple[datetime, int], Consent, datetime, str]]:
        """`limit` consents recorded for the person, oldest first, after the (given_at, id) `after`:
        ((given_at, id), consent, recorded_at, origin)."""
        order = (consent_history.c.given_at, consent_history.c.id)
        query = select(consent_history).where(consent_history.c.customer_id == customer_id).order_by(*order)
        if after is not None:
            query = query.where(tuple_(*order) > tuple_(*after))
        rows = self._session.execute(query.limit(limit))
        return [((row.given_at, row.id), _consent(row), row.recorded_at, row.origin) for row in rows]

    def blocks_of(self, customer_id: str) -> dict[tuple[str, str], str]:
        rows = self._session.execute(select(channel_blocks).where(channel_blocks.c.customer_id == customer_id))
        return {(row.channel, row.address): row.reason for row in rows}

    # --- changing ------------------------------------------------------------------------------
    def ensure(self, customer_id: str, seen_at: datetime, now: datetime) -> None:
        """Create the customer if new, remember the earliest event seen for them, lock their row."""
        BulkRepository(self._session).ensure({customer_id: seen_at}, now)

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
            insert(consents)
            .values(customer_id=customer_id, channel=consent.channel, **values)
            .on_conflict_do_update(index_elements=["customer_id", "channel"], set_=values)
        )

    def block(self, customer_id: str, channel: str, address: str, reason: str, at: datetime) -> None:
        self._session.execute(
            insert(channel_blocks)
            .values(customer_id=customer_id, channel=channel, address=address, reason=reason, blocked_at=at)
            .on_conflict_do_nothing(index_elements=["customer_id", "channel", "address"])
        )



def _consent(row: Any) -> Consent:
    return Consent(channel=row.channel, state=row.state, legal_basis=row.legal_basis, source=row.source,
                   given_at=row.given_at)
