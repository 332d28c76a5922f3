"""`declic import` and `declic ingest stats` against a running ingest (in-process, real database)."""

from __future__ import annotations

import gzip
from itertools import islice
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from declic.cli.ingest_commands import register
from declic.importing.uci import UCI_FILE


@pytest.fixture
def cli(start_service, clock):  # noqa: ANN001, ANN201
    running, _ = start_service("ingest", clock=clock)
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--address", f"127.0.0.1:{running.port}"], terminal_width=200)
        assert result.exit_code == 0, result.output
        return result.output

    return run


def test_import_contacts_catalogue_and_orders(cli, tmp_path: Path) -> None:
    (tmp_path / "catalogue.csv").write_text(
        "product_id,name,category,price,currency,updated_at\n"
        "p1,Kibble 2 kg,dog,12.90,EUR,2025-12-01T00:00:00Z\n")
    (tmp_path / "contacts.csv").write_text(
        "contact_id,updated_at,email,loyalty_card,first_name\n"
        "c1,2025-12-01T00:00:00Z,ann@example.com,CARD-1,Ann\n"
        "c2,2025-12-01T00:00:00Z,not-an-email,,Bob\n")
    (tmp_path / "orders.csv").write_text(
        "order_id,ordered_at,loyalty_card,channel,product_id,quantity,unit_price,currency\n"
        "o1,2025-12-02T10:00:00Z,CARD-1,store,p1,2,12.90,EUR\n"
        "o1,2025-12-02T10:00:00Z,CARD-1,store,p9,1,3,EUR\n"
        "o2,2025-12-02T11:00:00Z,CARD-2,store,p1,0,12.90,EUR\n")
    assert "1 rows → 1 events: 1 accepted" in cli("import", str(tmp_path / "catalogue.csv"), "--format", "catalogue")
    contacts = cli("import", str(tmp_path / "contacts.csv"), "-f", "contacts", "--source", "crm")
    assert "1 accepted, 0 duplicates, 1 refused" in contacts
    assert "identifiers[].value: is not a valid e-mail address" in contacts
    orders = cli("import", str(tmp_path / "orders.csv"), "-f", "orders", "--source", "pos")
    assert "3 rows → 2 events: 1 accepted, 0 duplicates, 1 refused (1 rows)" in orders
    assert "order.lines[].quantity: must be > 0" in orders and "unknown_product × 1" in orders
    again = cli("import", str(tmp_path / "orders.csv"), "-f", "orders", "--source", "pos")
    assert "0 accepted, 1 duplicates, 1 refused" in again
    stats = cli("ingest", "stats")
    assert "crm" in stats and "pos" in stats and "duplicate" in stats
    assert "CARD-1" in cli("ingest", "identity", "email:Ann@Example.com")


def test_import_a_slice_of_the_real_uci_file(cli, tmp_path: Path) -> None:
    sample = tmp_path / "uci_sample.csv.gz"
    with gzip.open(UCI_FILE, "rt", encoding="utf-8") as source, gzip.open(sample, "wt", encoding="utf-8") as out:
        out.writelines(islice(source, 3001))  # header + 3,000 rows
    output = cli("import", str(sample), "--uci")
    assert "3,000 rows →" in output and "0 duplicates" in output
    assert "refused" in output and "order.lines[].quantity: must be > 0" in output  # stock adjustments
