"""The UCI "Online Retail" file: real transactions of a UK online gift shop, 2010-12-01 to 2011-12-09.

Data: "Online Retail", UCI Machine Learning Repository, donor Daqing Chen (CC BY 4.0); D. Chen, S. L. Sain,
K. Guo (2012), Journal of Database Marketing and Customer Strategy Management 19(3):197-208.

How rows become events:
* the catalogue first: one ProductUpsert per StockCode (first non-empty Description as its name, the code
  itself when it never has one; the last positive UnitPrice as its price), dated at its first sale;
* then one Order per InvoiceNo (its lines are the file's rows), online, in GBP, at the invoice time read as
  Europe/London time; an invoice starting with "C" is a cancellation and becomes a return (quantities
  made positive);
* the customer is the CustomerID (a CRM id); a row without one becomes an anonymous order (an anonymous
  id per invoice: nothing says two guest invoices are the same person);
* nothing is dropped: rows that cannot be read are reported here, invoices that break a rule (stock
  adjustments with a negative quantity, "bad debt" lines with a negative price) are refused by ingest
  with the reason, and both appear in the import summary.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from declic.common.v1 import event_pb2, identity_pb2
from declic.importing.items import BadValue, ImportItem, RowProblem, instant, money, whole_number
from declic.kit.protoconv import to_timestamp

SOURCE = "uci-online-retail"
CURRENCY = "GBP"
SHOP_TIME = ZoneInfo("Europe/London")
UCI_FILE = Path(__file__).resolve().parents[2] / "data" / "online_retail_uci" / "online_retail.csv.gz"
"""The copy in the repository (data/, with its SOURCE.md): what the demo, the tests and the benchmark read."""
COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        reader = csv.reader(handle)
        header = next(reader, [])
        if tuple(header) != COLUMNS:
            raise ValueError(f"{path}: not the UCI Online Retail layout (expected columns {', '.join(COLUMNS)})")
        yield from enumerate(reader, start=1)


def read_uci(path: Path) -> Iterator[ImportItem | RowProblem]:
    """The catalogue, then the invoices, as import items (or row problems), in file order."""
    yield from _catalogue(path)
    invoices: dict[str, list[tuple[int, list[str]]]] = {}
    for number, row in _rows(path):
        invoices.setdefault(row[0], []).append((number, row))
    for invoice, lines in invoices.items():
        rows = tuple(number for number, _ in lines)
        try:
            yield ImportItem(_invoice(invoice, [row for _, row in lines]), rows)
        except BadValue as exc:
            yield RowProblem(rows, str(exc))


def _catalogue(path: Path) -> Iterator[ImportItem | RowProblem]:
    names: dict[str, str] = {}
    prices: dict[str, str] = {}
    first_sale: dict[str, tuple[int, str]] = {}
    for number, row in _rows(path):
        code, description, date, price = row[1], row[2], row[4], row[5]
        first_sale.setdefault(code, (number, date))
        if description and not names.get(code):
            names[code] = description
        try:
            if float(price) > 0:
                prices[code] = price
        except ValueError:
            pass  # reported with its invoice
    for code, (number, date) in first_sale.items():
        product = event_pb2.ProductUpsert(product_id=code, name=names.get(code) or code, in_stock=True)
        try:
            if code in prices:
                product.price.CopyFrom(money(prices[code], CURRENCY, "UnitPrice"))
            time = instant(date, "InvoiceDate", SHOP_TIME)
        except BadValue as exc:
            yield RowProblem((number,), str(exc))
            continue
        event_id = f"uci-product:{code.replace(' ', '_')}"  # codes such as "BANK CHARGES": ids have no spaces
        yield ImportItem(event_pb2.Event(event_id=event_id, source=SOURCE,
                                         event_time=to_timestamp(time), product_upsert=product), (number,))


def _invoice(invoice: str, lines: list[list[str]]) -> event_pb2.Event:
    first = lines[0]
    cancelled = invoice.startswith("C")
    time: datetime = instant(first[4], "InvoiceDate", SHOP_TIME)
    order = event_pb2.Order(
        order_id=invoice, channel=event_pb2.ORDER_CHANNEL_ONLINE, country=first[7],
        kind=event_pb2.ORDER_KIND_RETURN if cancelled else event_pb2.ORDER_KIND_PURCHASE,
    )
    for row in lines:
        quantity = whole_number(row[3], "Quantity")
        line = order.lines.add(product_id=row[1], description=row[2], quantity=-quantity if cancelled else quantity)
        line.unit_price.CopyFrom(money(row[5], CURRENCY, "UnitPrice"))
    customer = first[6]
    identifier = (identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_CRM_ID, value=customer) if customer
                  else identity_pb2.Identifier(type=identity_pb2.IDENTIFIER_TYPE_ANONYMOUS_ID,
                                               value=f"uci-guest-{invoice}"))
    return event_pb2.Event(event_id=f"uci-invoice:{invoice}", source=SOURCE, event_time=to_timestamp(time),
                           identifiers=[identifier], order=order)
