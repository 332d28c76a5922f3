"""Evaluation data: the UCI Online Retail year (through declic.importing's converter) and the OTTO session sample,
and time splits of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from declic.common.v1 import identity_pb2
from declic.importing.items import ImportItem
from declic.importing.uci import UCI_FILE, read_uci
from declic.kit.protoconv import to_datetime
from declic.recommending.events import interactions_of, product_of
from declic.recommending.interactions import CART, PURCHASE, VIEW, Corpus, Interaction

OTTO_FILE = Path(__file__).resolve().parents[2] / "data" / "otto_sessions_sample" / "train_sample.jsonl"
OTTO_KINDS = {"clicks": VIEW, "carts": CART, "orders": PURCHASE}


def is_uci_product(code: str) -> bool:
    """Stock codes start with 5 digits; POST, M, DOT, BANK CHARGES, AMAZONFEE... are fees and adjustments."""
    return code[:1].isdigit()


def load_uci(path: Path = UCI_FILE) -> Corpus:
    """Identified customers' purchases and cancellations (as returns), and the product catalogue."""
    corpus = Corpus(interactions=[], products={})
    for item in read_uci(path):
        if not isinstance(item, ImportItem):
            continue
        event = item.event
        if event.WhichOneof("payload") == "product_upsert":
            if is_uci_product(event.product_upsert.product_id):
                corpus.products[event.product_upsert.product_id] = product_of(event.product_upsert)
            continue
        crm = [i.value for i in event.identifiers if i.type == identity_pb2.IDENTIFIER_TYPE_CRM_ID]
        if not crm:
            continue
        lines = [line for line in event.order.lines if line.unit_price.units > 0 or line.unit_price.nanos > 0]
        del event.order.lines[:]
        event.order.lines.extend(line for line in lines if is_uci_product(line.product_id))
        corpus.interactions.extend(interactions_of(event, crm[0], to_datetime(event.event_time)))
    return corpus


def load_otto(path: Path = OTTO_FILE) -> Corpus:
    """Sessions stand in for customers; clicks are views, carts are cart adds, orders purchases."""
    corpus = Corpus(interactions=[], products={})
    with path.open() as handle:
        for line in handle:
            session = json.loads(line)
            for event in session["events"]:
                at = datetime.fromtimestamp(event["ts"] / 1000, UTC)
                corpus.interactions.append(Interaction(f"s{session['session']}", str(event["aid"]),
                                                       OTTO_KINDS[event["type"]], at))
    return corpus


@dataclass
class Split:
    """Train on what happened before `cut`; test on what the same customers bought in [cut, end), leaving out
    what they had bought before."""

    train: Corpus
    test: dict[str, set[str]]
    cut: datetime
    end: datetime | None = None
    """Where the test window ends (the data's last interaction when open-ended): how far ahead models are asked."""

    @property
    def window_days(self) -> float:
        return (self.end - self.cut).total_seconds() / 86400.0 if self.end else 0.0


def time_split(corpus: Corpus, cut: datetime, end: datetime | None = None) -> Split:
    before = [item for item in corpus.interactions if item.at < cut]
    had: dict[str, set[str]] = {}
    for item in before:
        if item.kind == PURCHASE:
            had.setdefault(item.customer_id, set()).add(item.product_id)
    test: dict[str, set[str]] = {}
    for item in corpus.interactions:
        in_window = cut <= item.at and (end is None or item.at < end)
        if item.kind == PURCHASE and in_window and item.product_id not in had.get(item.customer_id, {item.product_id}):
            test.setdefault(item.customer_id, set()).add(item.product_id)
    known = {item.product_id for item in before}
    products = {pid: product for pid, product in corpus.products.items() if pid in known}
    appetences = {c: a for c, a in corpus.appetences.items() if c in had}
    last = max((item.at for item in corpus.interactions), default=cut)
    return Split(Corpus(before, products, appetences), test, cut, end or last)


def session_split(corpus: Corpus) -> Split:
    """OTTO: per session, views and carts are known, orders are what to find (nothing was bought before, so
    nothing is left out: ordering a product viewed in the session is the easy case every model may get)."""
    train = [item for item in corpus.interactions if item.kind != PURCHASE]
    test: dict[str, set[str]] = {}
    for item in corpus.interactions:
        if item.kind == PURCHASE:
            test.setdefault(item.customer_id, set()).add(item.product_id)
    last = max(item.at for item in corpus.interactions)
    return Split(Corpus(train, {}, {}), test, last)
