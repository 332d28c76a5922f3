"""Dispatch's tables and repository (SQLAlchemy Core)."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text, select
from sqlalchemy.orm import Session

from declic.kit.database import UtcDateTime, insert_for
from services.dispatch.domain.messages import DeliveryState, Message

metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("scenario_id", String(100), nullable=False),
    Column("firing_id", String(100), nullable=False),
    Column("address", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_messages_customer", "customer_id", "created_at"),
)


class MessageRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_once(self, message: Message) -> bool:
        """Insert unless a message with the same id exists; True when inserted."""
        values = {**message.__dict__, "state": message.state.value}
        statement = (
            insert_for(self._session, messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(messages.c.message_id)
        )
        # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT inserts through a Session.
        return self._session.execute(statement).first() is not None

    def get(self, message_id: str) -> Message | None:
        row = self._session.execute(select(messages).where(messages.c.message_id == message_id)).first()
        return _to_message(row) if row else None

    def list(self, customer_id: str = "", limit: int = 100) -> list[Message]:
        query = select(messages).order_by(messages.c.created_at.desc()).limit(limit)
        if customer_id:
            query = query.where(messages.c.customer_id == customer_id)
        return [_to_message(row) for row in self._session.execute(query)]


def _to_message(row: object) -> Message:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    data["state"] = DeliveryState(data["state"])
    return Message(**data)
