"""GDPR erasure: remove every personal datum, keep only hashes of the identifiers (suppression),
so that re-ingesting the same identifiers does not bring the person back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from declic.kit.identifiers import identifier_hash
from services.profile.storage.customers import CustomerRepository
from services.profile.storage.merges import CLEARED
from services.profile.storage.tables import ERASED, PERSONAL_TABLES, customers, outbox, suppressions


class ErasureRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def erase(self, customer_id: str, known_hashes: Iterable[str], now: datetime) -> list[str]:
        """Erase the person behind `customer_id` (following merges); returns the suppressed hashes."""
        repository = CustomerRepository(self._session)
        found = repository.resolve(customer_id)
        target = found[0] if found else customer_id
        hashes = set(known_hashes)
        hashes.update(identifier_hash(id_type, value) for id_type, value in repository.identifiers_of(target))
        self.suppress(hashes, now)
        for table in PERSONAL_TABLES:
            if table is customers:
                continue
            self._session.execute(delete(table).where(table.c.customer_id == target))
        if found is None:
            self._session.execute(customers.insert().values(customer_id=target, status=ERASED, updated_at=now,
                                                            **CLEARED))
        else:
            self._session.execute(update(customers).where(customers.c.customer_id == target)
                                  .values(status=ERASED, survivor_id=None, first_seen_at=None, updated_at=now,
                                          **CLEARED))
        # Ids merged into the person are erased with them (they would otherwise still lead to the person).
        self._session.execute(update(customers).where(customers.c.survivor_id == target)
                              .values(status=ERASED, survivor_id=None, updated_at=now))
        return sorted(hashes)

    def suppress(self, hashes: Iterable[str], now: datetime) -> None:
        for value in hashes:
            self._session.execute(
                insert(suppressions).values(identifier_hash=value, erased_at=now)
                .on_conflict_do_nothing(index_elements=["identifier_hash"])
            )

    def any_suppressed(self, hashes: Iterable[str]) -> bool:
        wanted = list(hashes)
        if not wanted:
            return False
        return self._session.execute(
            select(suppressions.c.identifier_hash).where(suppressions.c.identifier_hash.in_(wanted)).limit(1)
        ).first() is not None

    def enqueue(self, stream: str, payload: bytes) -> None:
        """Write a record to the transactional outbox (relayed to `stream` after commit)."""
        self._session.execute(outbox.insert().values(stream=stream, payload=payload))
