"""The messages dispatch recorded: inserted once per message id, listed newest first (then by id); those whose
firing is still to be confirmed to the arbiter, leased to one confirmation loop at a time."""

from __future__ import annotations

import builtins
import dataclasses
from datetime import datetime, timedelta

from sqlalchemy import Row, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.dispatch.domain.confirmation import Confirmation
from services.dispatch.domain.messages import DeliveryState, Message
from services.dispatch.storage.tables import messages


class MessageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, message: Message) -> bool:
        """Insert unless a message with the same id exists; True when inserted."""
        # To confirm to the arbiter at once (Confirmation.PENDING is the column's default).
        values = {**dataclasses.asdict(message), "state": message.state.value, "arbiter_due_at": message.created_at}
        statement = (
            insert(messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(messages.c.message_id)
        )
        # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT inserts through a Session.
        return self._session.execute(statement).first() is not None

    def get(self, message_id: str) -> Message | None:
        """The message with this id, if recorded."""
        row = self._session.execute(select(messages).where(messages.c.message_id == message_id)).first()
        return _to_message(row) if row else None

    def list(self, customer_id: str, limit: int, after: tuple[datetime, str] | None = None) -> list[Message]:
        """`limit` messages, newest first, after the (created_at, message_id) `after`; only the person's when
        `customer_id` is given."""
        order = (messages.c.created_at, messages.c.message_id)
        query = select(messages).order_by(*(column.desc() for column in order)).limit(limit)
        if customer_id:
            query = query.where(messages.c.customer_id == customer_id)
        if after is not None:
            query = query.where(tuple_(*order) < tuple_(*after))
        return [_to_message(row) for row in self._session.execute(query)]


    def claim_to_confirm(self, now: datetime, lease: timedelta, limit: int
                         ) -> builtins.list[tuple[str, str, int]]:
        """(message id, firing id, attempts so far) of up to `limit` messages to confirm now, oldest due first,
        leased: other loops skip them while they are locked, and until `lease` has passed."""
        query = (
            select(messages.c.message_id, messages.c.firing_id, messages.c.arbiter_attempts)
            .where(messages.c.arbiter == Confirmation.PENDING.value, messages.c.arbiter_due_at <= now)
            .order_by(messages.c.arbiter_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        due = [(row.message_id, row.firing_id, row.arbiter_attempts) for row in self._session.execute(query)]
        if due:
            self._session.execute(
                update(messages).where(messages.c.message_id.in_([d[0] for d in due]))
                .values(arbiter_due_at=now + lease, arbiter_attempts=messages.c.arbiter_attempts + 1))
        return due

    def settle_confirmation(self, message_id: str, confirmation: Confirmation, due_at: datetime | None = None) -> None:
        """Where confirming the message stands; `due_at`: when to try again (PENDING)."""
        self._session.execute(update(messages).where(messages.c.message_id == message_id)
                              .values(arbiter=confirmation.value, arbiter_due_at=due_at))

    def confirmation_of(self, message_id: str) -> Confirmation | None:
        """Where confirming the message to the arbiter stands (None: no such message)."""
        found = self._session.execute(select(messages.c.arbiter).where(messages.c.message_id == message_id)).first()
        return Confirmation(found.arbiter) if found else None


_FIELDS = tuple(field.name for field in dataclasses.fields(Message))


def _to_message(row: Row) -> Message:
    data = {name: row._mapping[name] for name in _FIELDS}
    data["state"] = DeliveryState(data["state"])
    return Message(**data)
