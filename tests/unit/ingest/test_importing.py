"""CSV readers (Declic formats and the UCI file) and the import summary, without a server."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from declic.cli.demo import uci_history
from declic.common.v1 import event_pb2, identity_pb2
from declic.importing.csv_files import read_catalogue, read_contacts, read_orders
from declic.importing.items import ImportItem, RowProblem
from declic.importing.runner import ImportRun
from declic.importing.uci import UCI_FILE, read_uci
from declic.ingest.v1 import ingest_pb2


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_contacts_become_identify_events(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv",
                 "contact_id,updated_at,email,phone,first_name,email_consent,pet\n"
                 "c1,2026-01-02T10:00:00+01:00,Ann@Example.com,0612345678,Ann,granted,cat\n"
                 "c2,2026-01-02,bob@example.com,,Bob,maybe,\n"
                 "c3,,eve@example.com,,Eve,,\n")
    first, second, third = list(read_contacts(path, "crm"))
    assert isinstance(first, ImportItem) and first.rows == (1,)
    event = first.event
    assert (event.event_id, event.source) == ("contact:c1:2026-01-02T10:00:00+01:00", "crm")
    assert [(i.type, i.value) for i in event.identifiers] == [
        (identity_pb2.IDENTIFIER_TYPE_EMAIL, "Ann@Example.com"), (identity_pb2.IDENTIFIER_TYPE_PHONE, "0612345678")]
    assert event.identify.first_name == "Ann" and dict(event.identify.attributes) == {"pet": "cat"}
    assert event.identify.consents[0].state == identity_pb2.CONSENT_STATE_GRANTED
    assert event.event_time.ToJsonString() == "2026-01-02T09:00:00Z"
    assert second == RowProblem((2,), "email_consent: must be granted or denied ('maybe')")
    assert third == RowProblem((3,), "updated_at: is required")


def test_order_lines_are_grouped_by_order(tmp_path: Path) -> None:
    path = write(tmp_path, "orders.csv",
                 "order_id,ordered_at,loyalty_card,channel,kind,product_id,quantity,unit_price,currency\n"
                 "o1,2026-01-02T10:00:00Z,CARD1,store,,p1,2,3.50,EUR\n"
                 "o2,2026-01-02T11:00:00Z,CARD2,online,return,p2,1,9.99,EUR\n"
                 "o1,2026-01-02T10:00:00Z,CARD1,store,,p3,1,12,EUR\n"
                 "o3,2026-01-02T12:00:00Z,CARD3,online,,p4,two,1,EUR\n"
                 "o4,2026-01-02T12:00:00Z,CARD3,by pigeon,,p4,1,1,EUR\n")
    o1, o2, o3, o4 = list(read_orders(path, "pos"))
    assert o1.rows == (1, 3) and [(line.product_id, line.quantity) for line in o1.event.order.lines] == [
        ("p1", 2), ("p3", 1)]
    assert o1.event.order.lines[0].unit_price.units == 3 and o1.event.order.lines[0].unit_price.nanos == 500_000_000
    assert o1.event.order.channel == event_pb2.ORDER_CHANNEL_STORE
    assert o2.event.order.kind == event_pb2.ORDER_KIND_RETURN
    assert o3 == RowProblem((4,), "quantity: not a whole number ('two')")
    assert o4 == RowProblem((5,), "channel: must be online, store or call_center ('by pigeon')")


def test_catalogue_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "catalogue.csv.gz",
                 "product_id,name,category,price,currency,in_stock,updated_at\n"
                 "p1,Kibble 2 kg,dog,12.90,EUR,yes,2026-01-01T00:00:00Z\n"
                 "p2,Toy,,abc,EUR,,2026-01-01T00:00:00Z\n")
    good, bad = list(read_catalogue(path, "erp"))
    product = good.event.product_upsert
    assert (product.name, product.in_stock, product.price.units, product.price.nanos) == ("Kibble 2 kg", True, 12,
                                                                                        900_000_000)
    assert bad == RowProblem((2,), "price: not a number ('abc')")


UCI_SAMPLE = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom\n"
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n"
    "536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom\n"
    "536415,BANK CHARGES,Bank Charges,1,2011-06-01 11:52:00,15,,United Kingdom\n"
    "536416,22139,damaged,x,2011-06-01 11:52:00,0,,United Kingdom\n"
)


def test_uci_rows_become_catalogue_then_orders(tmp_path: Path) -> None:
    items = list(read_uci(write(tmp_path, "uci.csv", UCI_SAMPLE)))
    products = [i.event.product_upsert for i in items[:5]]
    assert [(p.product_id, p.name, p.price.units) for p in products] == [
        ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2), ("71053", "WHITE METAL LANTERN", 3),
        ("D", "Discount", 27), ("22139", "damaged", 0), ("BANK CHARGES", "Bank Charges", 15)]
    assert items[4].event.event_id == "uci-product:BANK_CHARGES"
    sale, cancellation, guest, charges, unreadable = items[5:]
    assert sale.rows == (1, 2) and sale.event.event_id == "uci-invoice:536365"
    assert sale.event.identifiers[0].type == identity_pb2.IDENTIFIER_TYPE_CRM_ID
    assert sale.event.event_time.ToJsonString() == "2010-12-01T08:26:00Z"  # London is on UTC in December
    assert charges.event.event_time.ToJsonString() == "2011-06-01T10:52:00Z"  # ... and on BST in June
    assert cancellation.event.order.kind == event_pb2.ORDER_KIND_RETURN
    assert cancellation.event.order.lines[0].quantity == 1
    assert guest.event.identifiers[0].type == identity_pb2.IDENTIFIER_TYPE_ANONYMOUS_ID
    assert guest.event.identifiers[0].value == "uci-guest-536414"
    assert unreadable == RowProblem((6,), "Quantity: not a whole number ('x')")


def test_a_file_that_is_not_uci_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the UCI Online Retail layout"):
        list(read_uci(write(tmp_path, "x.csv", "a,b\n1,2\n")))


def test_the_real_uci_file_reads_completely() -> None:
    items = list(read_uci(UCI_FILE))
    orders = [i for i in items if isinstance(i, ImportItem) and i.event.HasField("order")]
    assert sum(1 for i in items if isinstance(i, ImportItem) and i.event.HasField("product_upsert")) == 4070
    assert len(orders) == 25900 and not [i for i in items if isinstance(i, RowProblem)]
    assert sum(len(o.rows) for o in orders) == 541909
    assert sum(len(o.rows) for o in orders if o.event.order.kind == event_pb2.ORDER_KIND_RETURN) == 9288
    kinds = Counter(o.event.identifiers[0].type for o in orders)
    assert kinds[identity_pb2.IDENTIFIER_TYPE_CRM_ID] == 22190


class FakeIngest:
    """Answers like ingest: refuses events whose first line has quantity 0, accepts the rest."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def IngestBatch(self, request: ingest_pb2.IngestBatchRequest, timeout: float) -> ingest_pb2.IngestBatchResponse:  # noqa: N802
        self.batches.append(len(request.events))
        response = ingest_pb2.IngestBatchResponse()
        for index, event in enumerate(request.events):
            if event.order.lines and event.order.lines[0].quantity == 0:
                response.results.add(index=index, status=ingest_pb2.EVENT_STATUS_REJECTED, errors=[
                    ingest_pb2.FieldError(field=f"events[{index}].order.lines[0].quantity", description="must be > 0")])
            else:
                response.results.add(index=index, status=ingest_pb2.EVENT_STATUS_ACCEPTED,
                                     warnings=["unknown_product:p"])
        return response


def test_the_summary_counts_refusals_by_reason_and_rows() -> None:
    def item(n: int, quantity: int) -> ImportItem:
        order = event_pb2.Order(order_id=str(n), lines=[event_pb2.OrderLine(product_id="p", quantity=quantity)])
        return ImportItem(event_pb2.Event(event_id=str(n), order=order), (2 * n, 2 * n + 1))

    fake = FakeIngest()
    items = [item(n, n % 3) for n in range(1200)] + [RowProblem((9999,), "quantity: not a whole number ('x')")]
    summary = ImportRun(fake, batch_events=500).send_all(items)  # type: ignore[arg-type]
    assert fake.batches == [500, 500, 200]
    assert (summary.events, summary.accepted, summary.rejected) == (1201, 800, 401)
    assert summary.reasons == Counter({"order.lines[].quantity: must be > 0": 400,
                                       "quantity: not a whole number ('x')": 1})
    assert summary.rows_by_reason["order.lines[].quantity: must be > 0"] == 800
    assert summary.rows == 2401 and summary.rows_rejected == 801
    assert summary.warnings == Counter({"unknown_product": 800})


DEMO_SAMPLE = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,0,17850,United Kingdom\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047,United Kingdom\n"
    "556444,22502,PICNIC BASKET WICKER 60 PIECES,60,2011-06-10 15:28:00,649.5,17850,United Kingdom\n"
    "556445,85123A,found damaged,-12,2011-06-10 15:30:00,2.55,17850,United Kingdom\n"
)


def test_the_demo_replays_the_importers_events(tmp_path: Path) -> None:
    """One UCI conversion: the demo sends the importer's events, not its own reading of the file."""
    path = write(tmp_path, "uci.csv", DEMO_SAMPLE)
    imported = [item.event for item in read_uci(path) if isinstance(item, ImportItem)]
    history = [item.event for item in uci_history(1, path) if isinstance(item, ImportItem)]
    kinds = Counter(event.WhichOneof("payload") for event in history)
    assert kinds == Counter({"order": 4, "product_upsert": 3, "identify": 1})  # customer 13047 and its product out
    assert sorted(e.SerializeToString() for e in history if not e.HasField("identify")) == sorted(
        e.SerializeToString() for e in imported
        if e.HasField("product_upsert") and e.product_upsert.product_id != "84879"
        or e.HasField("order") and e.identifiers[0].value == "17850")
    orders = {e.order.order_id: e for e in history if e.HasField("order")}
    assert orders["556444"].event_time.ToJsonString() == "2011-06-10T14:28:00Z"  # London summer time, not UTC
    assert orders["556445"].order.lines[0].quantity == -12  # sent as it is, for ingest to refuse and report
    assert orders["536366"].order.lines[0].unit_price.units == 0  # a free line is not dropped
    signup = next(event for event in history if event.HasField("identify"))
    assert signup.event_time == orders["536365"].event_time  # signed up at the first invoice, just before it
    assert history.index(signup) < history.index(orders["536365"])
