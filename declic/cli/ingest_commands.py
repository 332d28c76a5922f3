"""`declic import …` (first loads from CSV) and `declic ingest …` (data quality, identities), over gRPC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from declic.cli.connect import service_stub
from declic.common.v1 import identity_pb2
from declic.importing.csv_files import READERS
from declic.importing.runner import ImportRun, ImportSummary
from declic.importing.uci import read_uci
from declic.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from declic.kit.paging import MAX_PAGE_SIZE, every_item
from declic.kit.protoconv import identifier_type_enum, identifier_type_name

console = Console()
ingest_app = typer.Typer(help="Ingest: data-quality counts, identities, merges and splits.", no_args_is_help=True)

Address = Annotated[str, typer.Option("--address", help="host:port of ingest (default: from DECLIC_* settings).")]
FORMATS = ("contacts", "orders", "catalogue", "uci")
STATUS_NAMES = {ingest_pb2.EVENT_STATUS_ACCEPTED: "accepted", ingest_pb2.EVENT_STATUS_DUPLICATE: "duplicate",
                ingest_pb2.EVENT_STATUS_REJECTED: "rejected"}


def _stub(address: str):  # type: ignore[no-untyped-def]
    # DECLIC_CLIENT_TOKEN is presented when the services require tokens (ingest:write to import).
    return service_stub(ingest_pb2_grpc.IngestServiceStub, "ingest", address)


def import_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file (.csv or .csv.gz).")],
    file_format: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "",
    uci: Annotated[bool, typer.Option("--uci", help="Same as --format uci (UCI Online Retail file).")] = False,
    source: Annotated[str, typer.Option("--source", help="Source system of the rows (de-duplication scope).")]
    = "import",
    address: Address = "",
) -> None:
    """Load a CSV file through ingest (same validation as live events); prints rejects by reason."""
    chosen = "uci" if uci else file_format
    if chosen not in FORMATS:
        console.print(f"[red]--format must be one of {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    with console.status(f"reading {path.name} ..."):
        try:
            items = list(read_uci(path) if chosen == "uci" else READERS[chosen](path, source))
        except (ValueError, KeyError) as exc:
            console.print(f"[red]{path}: {exc}[/red]")
            raise typer.Exit(2) from None
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with _stub(address) as stub, Progress(*columns, console=console) as progress:
        task = progress.add_task(f"importing {path.name}", total=len(items))
        summary = ImportRun(stub).send_all(items, lambda done: progress.advance(task, done))
    print_summary(summary, console)


def print_summary(summary: ImportSummary, out: Console) -> None:
    """The import's outcome: counts, refusals by reason (events and file rows), the first refused rows."""
    out.print(summary.one_line())
    if summary.reasons:
        table = Table(title="Refused, by reason")
        for column in ("reason", "events", "rows"):
            table.add_column(column, justify="left" if column == "reason" else "right")
        for reason, count in summary.reasons.most_common():
            table.add_row(reason, f"{count:,}", f"{summary.rows_by_reason[reason]:,}")
        out.print(table)
        examples = "; ".join(f"{_rows(rows)}: {reason}" for rows, reason in summary.examples[:5])
        out.print(f"[dim]first refusals: {examples}[/dim]")
    if summary.warnings:
        out.print("accepted with remarks: " + ", ".join(f"{k} × {v:,}" for k, v in summary.warnings.items()))


def _rows(rows: tuple[int, ...]) -> str:
    if not rows:
        return "no file row"  # an event made beside the file (the demo's sign-ups)
    return f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]}-{rows[-1]}"


@ingest_app.command("stats")
def stats_command(
    source: Annotated[str, typer.Option("--source", help="Only this source system.")] = "",
    address: Address = "",
) -> None:
    """Accepted, duplicate and rejected events by source and reason; refused merges by reason."""
    with _stub(address) as stub:
        rows = list(every_item(stub.GetIngestStats, ingest_pb2.GetIngestStatsRequest(
            source=source, page_size=MAX_PAGE_SIZE), "rows"))
        # The refusal counts (a few reasons) come with every page.
        refusal_counts = stub.GetIngestStats(ingest_pb2.GetIngestStatsRequest(source=source, page_size=1)).refusals
    table = Table(title="Ingest: events by source, status and reason")
    for column in ("source", "status", "reason", "events"):
        table.add_column(column, justify="right" if column == "events" else "left")
    for row in rows:
        table.add_row(row.source, STATUS_NAMES.get(row.status, "?"), row.reason, f"{row.count:,}")
    console.print(table)
    if refusal_counts:
        refusals = Table(title="Identity guard rails: refused merges and attachments")
        refusals.add_column("reason")
        refusals.add_column("count", justify="right")
        for refusal in refusal_counts:
            refusals.add_row(refusal.reason, f"{refusal.count:,}")
        console.print(refusals)


@ingest_app.command("identity")
def identity_command(
    key: Annotated[str, typer.Argument(help='A customer id, or "<type>:<value>" (e.g. email:ann@example.com).')],
    address: Address = "",
) -> None:
    """A customer's identifiers (a merged-away id leads to the survivor)."""
    if ":" in key:
        kind, value = key.split(":", 1)
        request = ingest_pb2.GetCustomerIdentityRequest(
            identifier=identity_pb2.Identifier(type=identifier_type_enum(kind), value=value))
    else:
        request = ingest_pb2.GetCustomerIdentityRequest(customer_id=key)
    with _stub(address) as stub:
        response = stub.GetCustomerIdentity(request)
    console.print(f"customer [bold]{response.customer_id}[/bold]")
    for identifier in response.identifiers:
        console.print(f"  {identifier_type_name(identifier.type)}: {identifier.value}")


@ingest_app.command("audit")
def audit_command(
    customer_id: Annotated[str, typer.Option("--customer", help="Only merges and splits of this customer.")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, help="Entries of each kind per page.")] = 20,
    every_page: Annotated[bool, typer.Option("--all", help="Every entry, page after page.")] = False,
    address: Address = "",
) -> None:
    """Recent merges, refused merges and splits."""
    request = ingest_pb2.ListIdentityAuditRequest(customer_id=customer_id, page_size=limit)
    audit = ingest_pb2.ListIdentityAuditResponse()
    with _stub(address) as stub:
        while True:
            page = stub.ListIdentityAudit(request)
            audit.MergeFrom(page)
            if not (every_page and page.next_page_token):
                break
            request.page_token = page.next_page_token
    table = Table(title="Identity audit")
    for column in ("when", "what", "customers", "cause / reason"):
        table.add_column(column)
    for merge in audit.merges:
        table.add_row(merge.merged_at.ToJsonString(), "merged", f"{', '.join(merge.merged_ids)} → {merge.survivor_id}",
                      f"{merge.cause_source}/{merge.cause_event_id}")
    for refusal in audit.refusals:
        table.add_row(refusal.refused_at.ToJsonString(), "refused", ", ".join(refusal.customer_ids),
                      f"{refusal.reason} ({refusal.cause_source}/{refusal.cause_event_id})")
    for split in audit.splits:
        table.add_row(split.split_at.ToJsonString(), "split", f"{split.from_customer_id} → {split.new_customer_id}",
                      split.reason)
    console.print(table)
    if audit.next_page_token and not every_page:
        console.print("more entries: [bold]--all[/bold] lists them all")


@ingest_app.command("split")
def split_command(
    customer_id: Annotated[str, typer.Argument(help="The wrongly merged customer.")],
    identifiers: Annotated[list[str], typer.Argument(help='Identifiers that leave, "<type>:<value>".')],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")] = "",
    address: Address = "",
) -> None:
    """Move identifiers of a wrongly merged customer to a new customer (never merged back)."""
    wanted = []
    for text in identifiers:
        kind, _, value = text.partition(":")
        wanted.append(identity_pb2.Identifier(type=identifier_type_enum(kind), value=value))
    with _stub(address) as stub:
        split = stub.SplitCustomer(ingest_pb2.SplitCustomerRequest(customer_id=customer_id, identifiers=wanted,
                                                                   reason=reason))
    console.print(f"split: {split.from_customer_id} keeps the rest; new customer [bold]{split.new_customer_id}[/bold]")


def register(app: typer.Typer) -> None:
    """Add `declic import` and the `declic ingest` group to the CLI."""
    app.command("import")(import_command)
    app.add_typer(ingest_app, name="ingest")
