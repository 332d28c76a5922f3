"""Recommend's side of the hand-off: views, cart adds, purchases and returns feed the interaction store and
popularity; product upserts the catalogue; merges and erasures the customers' histories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.clock import Clock
from declic.kit.database import UnitOfWork
from declic.kit.handoff import HandoffHandler
from declic.kit.protoconv import to_datetime
from declic.recommending.events import appetence_of, interactions_of, product_of
from declic.recommending.interactions import KIND_WEIGHTS, PURCHASE
from services.recommend.domain.purchases import purchase_changes
from services.recommend.storage.catalogue import CatalogueRepository
from services.recommend.storage.interactions import InteractionRepository
from services.recommend.storage.purchases import PurchaseRepository
from services.recommend.storage.tables import inbox


class HandoffIntake(HandoffHandler):
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        super().__init__(uow, inbox, clock)

    def on_accepted_event(self, session: Session, accepted: handoff_pb2.AcceptedEvent, now: datetime) -> None:
        event = accepted.event
        payload = event.WhichOneof("payload")
        if payload == "product_upsert":
            CatalogueRepository(session).upsert(product_of(event.product_upsert))
            return
        at = to_datetime(event.event_time) if event.HasField("event_time") else now
        customer = accepted.customer_id
        store = InteractionRepository(session)
        store.add(interactions_of(event, customer, at))
        if customer and (category := appetence_of(event)):
            store.add_appetence(customer, category, KIND_WEIGHTS["view"])
        if payload == "order":
            self._order(session, store, customer, event.order)

    @staticmethod
    def _order(session: Session, store: InteractionRepository, customer: str, order: event_pb2.Order) -> None:
        is_return = order.kind == event_pb2.ORDER_KIND_RETURN
        repository = PurchaseRepository(session)
        lines = [(line.product_id, line.quantity) for line in order.lines]
        for change in purchase_changes(customer, lines, is_return):
            repository.add_purchase(change.customer_id, change.product_id, change.units)
        if customer and not is_return:
            for line in order.lines:
                if line.category:
                    store.add_appetence(customer, line.category, KIND_WEIGHTS[PURCHASE])

    def on_customers_merged(self, session: Session, merged: handoff_pb2.CustomersMerged, now: datetime) -> None:
        purchases, store = PurchaseRepository(session), InteractionRepository(session)
        for merged_id in merged.merged_ids:
            purchases.move_customer(merged_id, merged.survivor_id)
            store.merge(merged_id, merged.survivor_id)

    def on_customer_erased(self, session: Session, erased: handoff_pb2.CustomerErased, now: datetime) -> None:
        PurchaseRepository(session).forget_customer(erased.customer_id)
        InteractionRepository(session).forget(erased.customer_id)
