"""A retailer's event mix for the ingest benchmark (deterministic for a seed).

Per 100 events: 40 page views and 20 product views (anonymous web id, with the e-mail when logged in),
10 cart changes, 15 orders (web: e-mail and phone; store: loyalty card), 10 sign-ups/updates (e-mail,
phone, loyalty card, anonymous id: they reconcile web and store) and 5 message engagements. One person
appears about eight times over the run, so identities are created, attached and merged throughout.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from declic.common.v1 import event_pb2, identity_pb2, money_pb2
from declic.kit.protoconv import to_timestamp

I = identity_pb2  # noqa: E741
KINDS = ["page_view"] * 40 + ["product_view"] * 20 + ["cart_change"] * 10 + ["order"] * 15 + ["identify"] * 10 \
    + ["message_engagement"] * 5


class EventMix:
    def __init__(self, seed: int, run: str, customers: int) -> None:
        self._random = random.Random(seed)
        self._run = run
        self._customers = customers
        self._start = datetime.now(UTC) - timedelta(days=30)

    def batches(self, count: int, size: int, prefix: str = "e") -> list[list[event_pb2.Event]]:
        """`count` events (one every 10 s of the last 30 days, at most), cut into batches of `size`."""
        events = [self._event(f"{self._run}-{prefix}{n}", n, count) for n in range(count)]
        return [events[start:start + size] for start in range(0, count, size)]

    def copy_rows(self, batches: Sequence[Sequence[event_pb2.Event]]) -> list[list[tuple]]:
        """The rows ingest stores for these events, for the raw COPY baseline."""
        received = datetime.now(UTC)
        customer = {}
        rows = []
        for batch in batches:
            rows.append([(e.source, e.event_id, customer.setdefault(e.identifiers[0].value, uuid.uuid4().hex),
                          e.WhichOneof("payload"), e.event_time.ToDatetime(tzinfo=UTC), received,
                          e.SerializeToString()) for e in batch])
        return rows

    def _event(self, event_id: str, n: int, total: int) -> event_pb2.Event:
        rnd = self._random
        person = rnd.randrange(self._customers)
        kind = rnd.choice(KINDS)
        event = event_pb2.Event(event_id=event_id, source="webshop",
                                event_time=to_timestamp(self._start + timedelta(seconds=10 * n % 2_500_000)))
        email = I.Identifier(type=I.IDENTIFIER_TYPE_EMAIL, value=f"Customer.{person}@Example.com")
        anonymous = I.Identifier(type=I.IDENTIFIER_TYPE_ANONYMOUS_ID, value=f"web-{person}-{person % 3}")
        card = I.Identifier(type=I.IDENTIFIER_TYPE_LOYALTY_CARD, value=f"{900000 + person}")
        phone = I.Identifier(type=I.IDENTIFIER_TYPE_PHONE, value=f"06 {10000000 + person:08d}")
        product = f"SKU-{rnd.randrange(3000)}"
        if kind in ("page_view", "product_view", "cart_change"):
            event.identifiers.append(anonymous)
            if rnd.random() < 0.5:
                event.identifiers.append(email)
        if kind == "page_view":
            event.page_view.url = f"https://shop.example.com/c/{rnd.randrange(200)}"
        elif kind == "product_view":
            event.product_view.product_id, event.product_view.interaction = product, "view"
        elif kind == "cart_change":
            event.cart_change.cart_id, event.cart_change.action = f"cart-{person}", event_pb2.CART_ACTION_ADD
            event.cart_change.product_id, event.cart_change.quantity = product, 1
        elif kind == "order":
            store = rnd.random() < 0.4
            event.source = "pos" if store else "webshop"
            event.identifiers.extend([card] if store else [email, phone])
            order = event.order
            order.order_id = f"o-{event_id}"
            order.channel = event_pb2.ORDER_CHANNEL_STORE if store else event_pb2.ORDER_CHANNEL_ONLINE
            for _ in range(rnd.randrange(1, 5)):
                order.lines.add(product_id=f"SKU-{rnd.randrange(3000)}", quantity=rnd.randrange(1, 4),
                                unit_price=money_pb2.Money(currency_code="EUR", units=rnd.randrange(1, 80),
                                                           nanos=rnd.choice([0, 500_000_000, 990_000_000])))
        elif kind == "identify":
            event.source = "crm"
            event.identifiers.extend([email, phone, card, anonymous])
            event.identify.first_name, event.identify.reason = f"Name{person}", "account_updated"
        else:
            event.source = "dispatch"
            event.identifiers.append(email)
            engagement = event.message_engagement
            engagement.message_id, engagement.channel = f"m-{n}", I.CHANNEL_EMAIL
            engagement.kind = event_pb2.ENGAGEMENT_KIND_OPENED
        return event
