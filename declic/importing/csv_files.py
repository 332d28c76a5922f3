"""Declic's own CSV formats for first loads: contacts, orders (one row per line) and the catalogue.

Columns are documented in docs/ingest.md. Rows become the same events client systems send, so the
same validation applies; a cell that cannot even be read (a quantity of "two") makes a RowProblem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from declic.common.v1 import event_pb2, identity_pb2
from declic.importing.items import (
    BadValue,
    ImportItem,
    RowProblem,
    flag,
    instant,
    money,
    read_rows,
    whole_number,
)
from declic.kit.protoconv import channel_enum, identifier_type_enum, to_timestamp

IDENTIFIER_COLUMNS = ("email", "phone", "loyalty_card", "crm_id", "anonymous_id", "device_id")
CONSENT_COLUMNS = {f"{channel}_consent": channel for channel in ("email", "sms", "push", "print", "call_center")}
CONTACT_FIELDS = {"first_name", "last_name", "birth_date", "locale", "timezone", "reason"}
ORDER_CHANNELS = {"": event_pb2.ORDER_CHANNEL_UNSPECIFIED, "online": event_pb2.ORDER_CHANNEL_ONLINE,
                  "store": event_pb2.ORDER_CHANNEL_STORE, "call_center": event_pb2.ORDER_CHANNEL_CALL_CENTER}
ORDER_KINDS = {"": event_pb2.ORDER_KIND_PURCHASE, "purchase": event_pb2.ORDER_KIND_PURCHASE,
               "return": event_pb2.ORDER_KIND_RETURN}
CONSENT_STATES = {"granted": identity_pb2.CONSENT_STATE_GRANTED, "denied": identity_pb2.CONSENT_STATE_DENIED}

Reader = Callable[[Path, str], Iterator[ImportItem | RowProblem]]


def _identifiers(row: dict[str, str]) -> list[identity_pb2.Identifier]:
    return [identity_pb2.Identifier(type=identifier_type_enum(column), value=row[column])
            for column in IDENTIFIER_COLUMNS if row.get(column)]


def _required(row: dict[str, str], column: str) -> str:
    if not row.get(column):
        raise BadValue(f"{column}: is required")
    return row[column]


def read_contacts(path: Path, source: str) -> Iterator[ImportItem | RowProblem]:
    """contact_id, updated_at, identifier columns, first_name ... and <channel>_consent; other columns are
    kept as attributes. Event id: "contact:<contact_id>:<updated_at>" (a re-import is a duplicate)."""
    for number, row in read_rows(path):
        try:
            contact_id, updated_at = _required(row, "contact_id"), _required(row, "updated_at")
            time = instant(updated_at, "updated_at")
            identify = event_pb2.Identify(**{name: row[name] for name in CONTACT_FIELDS if row.get(name)})
            for column, channel in CONSENT_COLUMNS.items():
                if row.get(column):
                    if row[column].lower() not in CONSENT_STATES:
                        raise BadValue(f"{column}: must be granted or denied ({row[column]!r})")
                    identify.consents.add(channel=channel_enum(channel), state=CONSENT_STATES[row[column].lower()],
                                          legal_basis=identity_pb2.LEGAL_BASIS_CONSENT, source=source,
                                          time=to_timestamp(time))
            known = {"contact_id", "updated_at", *IDENTIFIER_COLUMNS, *CONSENT_COLUMNS, *CONTACT_FIELDS}
            identify.attributes.update({k: v for k, v in row.items() if k not in known and v})
        except BadValue as exc:
            yield RowProblem((number,), str(exc))
            continue
        yield ImportItem(event_pb2.Event(event_id=f"contact:{contact_id}:{updated_at}", source=source,
                                         event_time=to_timestamp(time), identifiers=_identifiers(row),
                                         identify=identify), (number,))


def read_catalogue(path: Path, source: str) -> Iterator[ImportItem | RowProblem]:
    """product_id, name, category, price, currency, in_stock, deleted, updated_at (one row per product)."""
    for number, row in read_rows(path):
        try:
            product_id, updated_at = _required(row, "product_id"), _required(row, "updated_at")
            product = event_pb2.ProductUpsert(product_id=product_id, name=row.get("name", ""),
                                              category=row.get("category", ""),
                                              in_stock=flag(row.get("in_stock", ""), "in_stock"),
                                              deleted=flag(row.get("deleted", ""), "deleted"))
            if row.get("price"):
                product.price.CopyFrom(money(row["price"], row.get("currency", ""), "price"))
            time = instant(updated_at, "updated_at")
        except BadValue as exc:
            yield RowProblem((number,), str(exc))
            continue
        yield ImportItem(event_pb2.Event(event_id=f"product:{product_id}:{updated_at}", source=source,
                                         event_time=to_timestamp(time), product_upsert=product), (number,))


def read_orders(path: Path, source: str) -> Iterator[ImportItem | RowProblem]:
    """One row per order line: order_id, ordered_at, identifier columns, channel, kind, product_id, quantity,
    unit_price, currency, discount, category, description, store_id, promo_code, original_order_id, country.
    The order-level columns are read from an order's first row. Event id: "order:<order_id>"."""
    orders: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in read_rows(path):
        orders.setdefault(row.get("order_id", ""), []).append((number, row))
    for order_id, lines in orders.items():
        rows = tuple(number for number, _ in lines)
        try:
            yield ImportItem(_order(order_id, [row for _, row in lines], source), rows)
        except BadValue as exc:
            yield RowProblem(rows, str(exc))


def _order(order_id: str, lines: list[dict[str, str]], source: str) -> event_pb2.Event:
    if not order_id:
        raise BadValue("order_id: is required")
    first = lines[0]
    time = instant(_required(first, "ordered_at"), "ordered_at")
    channel, kind = first.get("channel", "").lower(), first.get("kind", "").lower()
    if channel not in ORDER_CHANNELS:
        raise BadValue(f"channel: must be online, store or call_center ({channel!r})")
    if kind not in ORDER_KINDS:
        raise BadValue(f"kind: must be purchase or return ({kind!r})")
    order = event_pb2.Order(order_id=order_id, channel=ORDER_CHANNELS[channel], kind=ORDER_KINDS[kind],
                            store_id=first.get("store_id", ""), promo_code=first.get("promo_code", ""),
                            original_order_id=first.get("original_order_id", ""), country=first.get("country", ""),
                            loyalty_card=first.get("loyalty_card", ""))
    for row in lines:
        line = order.lines.add(product_id=row.get("product_id", ""), category=row.get("category", ""),
                               description=row.get("description", ""),
                               quantity=whole_number(_required(row, "quantity"), "quantity"))
        line.unit_price.CopyFrom(money(_required(row, "unit_price"), row.get("currency", ""), "unit_price"))
        if row.get("discount"):
            line.discount.CopyFrom(money(row["discount"], row.get("currency", ""), "discount"))
    return event_pb2.Event(event_id=f"order:{order_id}", source=source, event_time=to_timestamp(time),
                           identifiers=_identifiers(first), order=order)


READERS: dict[str, Reader] = {"contacts": read_contacts, "orders": read_orders, "catalogue": read_catalogue}
