"""Dispatch's service layer: deliver each allowed firing exactly once."""

from __future__ import annotations

from datetime import datetime

from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from services.dispatch.domain.messages import Message, SendOrder, compose
from services.dispatch.storage.messages import MessageRepository


class DispatchService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def send(self, order: SendOrder) -> tuple[Message, bool]:
        """Record and deliver `order`; a repeat returns the first message and False."""
        message = compose(order, self._clock.now())
        with self._uow.begin() as session:
            repository = MessageRepository(session)
            created = repository.add_once(message)
            stored = repository.get(message.message_id)
            session.commit()
        assert stored is not None
        return stored, created

    def list(self, customer_id: str, limit: int, after: tuple[datetime, str] | None = None) -> list[Message]:
        """`limit` messages, newest first, after the (created_at, message_id) `after`; only the person's when
        `customer_id` is given."""
        with self._uow.begin() as session:
            return MessageRepository(session).list(customer_id, limit, after)
