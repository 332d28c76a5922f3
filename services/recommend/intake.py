"""Recommend's side of the hand-off: purchases, returns and stock feed the model's data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from services.recommend.domain.purchases import can_be_sold, purchase_changes
from services.recommend.storage.purchases import PurchaseRepository
from services.recommend.storage.stock import StockRepository
from services.recommend.storage.tables import inbox


class HandoffIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        super().__init__(uow, inbox, clock)

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        payload = accepted.event.WhichOneof("payload")
        if payload == "order":
            order = accepted.event.order
            lines = [(line.product_id, line.quantity) for line in order.lines]
            is_return = order.kind == event_pb2.ORDER_KIND_RETURN
            repository = PurchaseRepository(session)
            for change in purchase_changes(accepted.customer_id, lines, is_return):
                repository.add_purchase(change.customer_id, change.product_id, change.units)
        elif payload == "product_upsert":
            product = accepted.event.product_upsert
            StockRepository(session).set_stock(product.product_id, can_be_sold(product.in_stock, product.deleted))

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        repository = PurchaseRepository(session)
        for merged_id in merged.merged_ids:
            repository.move_customer(merged_id, merged.survivor_id)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        PurchaseRepository(session).forget_customer(erased.customer_id)
