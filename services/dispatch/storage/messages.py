"""The messages dispatch recorded: inserted once per message id, listed newest first (then by id)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import Row, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.dispatch.domain.messages import DeliveryState, Message
from services.dispatch.storage.tables import messages


class MessageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, message: Message) -> bool:
        """Insert unless a message with the same id exists; True when inserted."""
        values = {**dataclasses.asdict(message), "state": message.state.value}
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


def _to_message(row: Row) -> Message:
    data = dict(row._mapping)
    data["state"] = DeliveryState(data["state"])
    return Message(**data)
