"""Data for benchmarks.scenario: a 40-scenario catalogue and a retailer's mix of hand-off records."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from declic.common.v1 import event_pb2
from declic.ingest.v1 import handoff_pb2
from declic.kit.protoconv import to_timestamp
from declic.scenarios.loader import DEFAULT_DIR
from declic.scenarios.samples import SAMPLE_PROFILE

# The shipped catalogue (35) and copies of five event scenarios under other ids: 40 active scenarios.
EXTRA = {"abandoned-cart": "abandoned-cart-b", "browse-abandonment": "browse-abandonment-b",
         "product-viewed-three-times": "product-viewed-twice", "offer-page-visit": "offer-page-visit-b",
         "order-confirmation": "order-confirmation-b"}


def forty_scenarios(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, folder)
    for source, copy in EXTRA.items():
        text = (DEFAULT_DIR / f"{source}.yaml").read_text().replace(f"id: {source}", f"id: {copy}")
        (folder / f"{copy}.yaml").write_text(text)
    return folder


def _event(rng: random.Random, n: int, customer: int) -> event_pb2.Event:
    roll = rng.random()
    event = event_pb2.Event(event_id=f"b{n}", source="web")
    if roll < 0.5:
        event.page_view.url = rng.choice(["https://s/offers", "https://s/c/dogs", "https://s/p/1", "https://s/"])
        event.page_view.category = rng.choice(["offers", "dogs", "cats", ""])
    elif roll < 0.75:
        event.product_view.product_id = f"p{rng.randrange(500)}"
        event.product_view.category = rng.choice(["kibble", "litter", "toys"])
        event.product_view.interaction = rng.choice(["view", "view", "view", "compare", "reviews"])
    elif roll < 0.9:
        event.cart_change.cart_id = f"cart-{customer}"
        event.cart_change.action = rng.choice([event_pb2.CART_ACTION_ADD] * 4 + [event_pb2.CART_ACTION_CLEAR])
        event.cart_change.product_id = f"p{rng.randrange(500)}"
        event.cart_change.quantity = 1
    elif roll < 0.96:
        event.order.order_id = f"o{n}"
        event.order.kind = event_pb2.ORDER_KIND_PURCHASE
        event.order.channel = rng.choice([event_pb2.ORDER_CHANNEL_ONLINE, event_pb2.ORDER_CHANNEL_STORE])
        line = event.order.lines.add(product_id=f"p{rng.randrange(500)}", quantity=1, category="kibble")
        line.unit_price.units = 30
    else:
        event.identify.first_name = "Ann"
        event.identify.reason = rng.choice(["newsletter_signup", "profile_update"])
    return event


def _browsing(rng: random.Random, n: int, customer: int) -> event_pb2.Event:
    """The realistic mix: what a retailer's stream mostly carries (see `records`)."""
    roll = rng.random()
    event = event_pb2.Event(event_id=f"b{n}", source="web")
    if roll < 0.60:  # pages: home, search, product and account pages mostly; a category now and then
        page = rng.choices(["https://s/", "https://s/search?q=kibble", "https://s/p/1", "https://s/account",
                            "https://s/c/dogs", "https://s/c/cats", "https://s/offers", "https://s/stores"],
                           weights=[25, 15, 30, 10, 8, 6, 4, 2])[0]
        event.page_view.url = page
        event.page_view.category = {"https://s/c/dogs": "dogs", "https://s/c/cats": "cats",
                                    "https://s/offers": "offers"}.get(page, "")
    elif roll < 0.90:  # a customer keeps coming back to the same few products
        event.product_view.product_id = f"p{(customer * 7 + rng.randrange(4)) % 500}"
        event.product_view.category = rng.choice(["kibble", "litter", "toys"])
        event.product_view.interaction = rng.choices(["view", "compare", "reviews"], weights=[85, 10, 5])[0]
    elif roll < 0.97:  # one cart per customer, changed several times
        event.cart_change.cart_id = f"cart-{customer}"
        event.cart_change.action = rng.choice([event_pb2.CART_ACTION_ADD] * 3 + [event_pb2.CART_ACTION_REMOVE])
        event.cart_change.product_id = f"p{rng.randrange(500)}"
        event.cart_change.quantity = 1
    elif roll < 0.99:
        event.order.order_id = f"o{n}"
        event.order.kind = event_pb2.ORDER_KIND_PURCHASE
        event.order.channel = event_pb2.ORDER_CHANNEL_ONLINE
        line = event.order.lines.add(product_id=f"p{rng.randrange(500)}", quantity=1, category="kibble")
        line.unit_price.units = 30
    else:
        event.identify.first_name = "Ann"
        event.identify.reason = rng.choice(["profile_update", "profile_update", "newsletter_signup"])
    return event


MIXES = {"heavy": _event, "realistic": _browsing}
"""heavy: each event a new customer's nearly (4 events per customer), half of them pages with a category or the
offers, a quarter product views — about 1.5 journeys entered per event. realistic: 20 events per customer (a day's
sessions), 60 % pages (a category page one time in five), 30 % product views of the customer's few products,
7 % cart changes of one cart, 2 % orders, 1 % identifies — most events enter nothing new (re-entry rules, business
keys) and change at most an open journey's count."""


def records(count: int, customers: int, tag: str, seed: int = 7, mix: str = "heavy") -> Iterator[bytes]:
    """`count` accepted events of `customers` customers, as serialized HandoffRecords, of a mix of `MIXES`."""
    rng = random.Random(seed)
    make = MIXES[mix]
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for n in range(count):
        customer = rng.randrange(customers)
        event = make(rng, n, customer)
        event.event_time.CopyFrom(to_timestamp(start + timedelta(seconds=n)))
        yield handoff_pb2.HandoffRecord(record_id=f"{tag}:{n}", accepted_event=handoff_pb2.AcceptedEvent(
            event=event, customer_id=f"{tag}-c{customer}",
            new_customer=event.HasField("identify") and (mix == "heavy" or event.identify.reason != "profile_update"),
        )).SerializeToString()


class StandInProfiles:
    """Profile answered in this process (the due-steps and segment figures measure scenario, not gRPC)."""

    def __init__(self, members: int = 0) -> None:
        self.members = members

    def profile_facts(self, customer_id: str, now: datetime) -> dict[str, Any]:
        return {**SAMPLE_PROFILE, "customer_id": customer_id, "timezone": "Europe/Paris", "lifecycle": "lapsed",
                "contactability": {**SAMPLE_PROFILE["contactability"], "email": True, "sms": True}}

    def segment(self, segment: Any, as_of: datetime, batch_size: int = 5000) -> Iterator[list[str]]:
        for start in range(0, self.members, batch_size):
            yield [f"s{n}" for n in range(start, min(start + batch_size, self.members))]
