"""Splits decided by an operator (a wrong merge undone): identifiers moved to a new customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.profile.domain.identifiers import CHANNEL_ADDRESS_TYPE
from services.profile.storage.bulk import BulkRepository
from services.profile.storage.customers import CustomerRepository
from services.profile.storage.tables import ACTIVE, channel_blocks, identifiers


class SplitRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._customers = CustomerRepository(session)

    def split(self, from_id: str, new_id: str, moved: Sequence[tuple[str, str]], now: datetime) -> None:
        """Move the listed identifiers (and their blocked addresses) to a new customer.

        The new customer starts without consents: nobody is contacted on the
        strength of a consent that may have been given by the other person.
        """
        found = self._customers.resolve(from_id)
        if found is None or found[1] != ACTIVE:
            return
        origin = found[0]
        self._customers.lock(origin)
        self._customers.ensure(new_id, now, now)
        for id_type, value in moved:
            self._session.execute(update(identifiers).where(
                identifiers.c.id_type == id_type, identifiers.c.value == value, identifiers.c.customer_id == origin,
            ).values(customer_id=new_id))
            channels = [channel for channel, address_type in CHANNEL_ADDRESS_TYPE.items() if address_type == id_type]
            self._session.execute(update(channel_blocks).where(
                channel_blocks.c.customer_id == origin, channel_blocks.c.address == value,
                channel_blocks.c.channel.in_(channels),
            ).values(customer_id=new_id))
        BulkRepository(self._session).refresh_derived([origin, new_id])

