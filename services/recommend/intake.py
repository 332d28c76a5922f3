"""Recommend's side of the hand-off: purchases, returns and stock feed the model's data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from services.recommend.storage import RecommendRepository, inbox


class HandoffIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        super().__init__(uow, inbox, clock)

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        repository = RecommendRepository(session)
        payload = accepted.event.WhichOneof("payload")
        if payload == "order":
            order = accepted.event.order
            sign = -1.0 if order.kind == event_pb2.ORDER_KIND_RETURN else 1.0
            for line in order.lines:
                if line.product_id and line.quantity > 0:
                    customer = accepted.customer_id if sign > 0 else ""
                    repository.add_purchase(customer, line.product_id, sign * line.quantity)
        elif payload == "product_upsert":
            product = accepted.event.product_upsert
            repository.set_stock(product.product_id, product.in_stock and not product.deleted)

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        repository = RecommendRepository(session)
        for merged_id in merged.merged_ids:
            repository.move_customer(merged_id, merged.survivor_id)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        RecommendRepository(session).forget_customer(erased.customer_id)
