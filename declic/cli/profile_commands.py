"""`declic profile …`: who is this customer? Look up, export and erase profiles over gRPC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from declic.cli.connect import service_stub
from declic.common.v1 import identity_pb2
from declic.profile.v1 import profile_pb2, profile_pb2_grpc

console = Console()
profile_app = typer.Typer(help="Look up, export and erase customer profiles.", no_args_is_help=True)

Address = Annotated[str, typer.Option("--address", help="host:port of profile (default: from DECLIC_* settings).")]
CustomerId = Annotated[str, typer.Argument(help="Customer id (a merged-away id gives the survivor).")]


def _stub(address: str):  # type: ignore[no-untyped-def]
    # DECLIC_CLIENT_TOKEN is presented when the services require tokens (profile:read; profile:privacy to erase).
    return service_stub(profile_pb2_grpc.ProfileServiceStub, "profile", address)


def _name(enum: Any, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower().replace("_", " ")


def _money(value: Any) -> str:
    return f"{value.units + value.nanos / 1e9:,.2f} {value.currency_code}".strip()


def render_profile(profile: profile_pb2.Profile) -> Panel:
    """A call-center summary: who, how to reach them, what they buy, and why each figure is what it is."""
    why = profile.explanations
    identity = Table.grid(padding=(0, 2))
    identity.add_row("name", f"{profile.first_name} {profile.last_name}".strip() or "—")
    for identifier in profile.identifiers:
        identity.add_row(_name(identity_pb2.IdentifierType, identifier.type, "IDENTIFIER_TYPE_"), identifier.value)
    identity.add_row("birth date", profile.birth_date or "—")
    identity.add_row("locale / zone", f"{profile.locale or '—'} / {profile.timezone}")

    reach = Table(title="Contactability", title_justify="left")
    for column in ("channel", "contactable", "address", "why"):
        reach.add_column(column)
    for state in profile.contactability:
        mark = "[green]yes[/green]" if state.contactable else "[red]no[/red]"
        reach.add_row(_name(identity_pb2.Channel, state.channel, "CHANNEL_"), mark, state.address, state.reason)

    computed = Table(title="Computed", title_justify="left")
    for column in ("field", "value", "why"):
        computed.add_column(column)
    rfm = profile.rfm
    rows: list[tuple[str, str, str]] = [
        ("lifecycle", _name(profile_pb2.LifecycleStage, profile.lifecycle_stage, "LIFECYCLE_STAGE_"),
         why.get("lifecycle_stage", "")),
        ("RFM", f"{rfm.recency_score}{rfm.frequency_score}{rfm.monetary_score}" if rfm.recency_score else "—",
         why.get("rfm", "")),
        ("orders / value", f"{profile.order_count} / {_money(profile.monetary_value)}", why.get("monetary_value", "")),
        ("usual interval", f"{profile.average_interval_days:.1f} days" if profile.average_interval_days else "—",
         why.get("average_interval_days", "")),
        ("promo-sensitivity", f"{profile.promo_sensitivity:.0%}", why.get("promo_sensitivity", "")),
        ("preferred channel", _name(identity_pb2.Channel, profile.preferred_channel, "CHANNEL_")
         if profile.preferred_channel else "—",
         why.get("preferred_channel", "")),
    ]
    for row in rows:
        computed.add_row(*row)
    tastes = ", ".join(f"{a.value} {a.share:.0%}" for a in profile.appetences if a.dimension == "category")
    computed.add_row("appetences", tastes or "—", why.get("appetences", ""))

    orders = Table(title="Last orders", title_justify="left")
    for column in ("date", "order", "kind", "amount", "categories"):
        orders.add_column(column)
    for order in profile.last_orders:
        orders.add_row(order.ordered_at.ToDatetime().strftime("%Y-%m-%d"), order.order_id,
                       "return" if order.kind == 2 else "purchase", _money(order.amount), ", ".join(order.categories))
    return Panel(Group(identity, reach, computed, orders), title=f"customer {profile.customer_id}")


@profile_app.command()
def lookup(
    email: Annotated[str, typer.Option("--email", help="E-mail in any case.")] = "",
    phone: Annotated[str, typer.Option("--phone", help="Phone in any national or international format.")] = "",
    loyalty_card: Annotated[str, typer.Option("--loyalty-card")] = "",
    crm_id: Annotated[str, typer.Option("--crm-id")] = "",
    address: Address = "",
) -> None:
    """Who is calling? Find a customer by one identifier and print their summary."""
    given = [(kind, value) for kind, value in (
        (identity_pb2.IDENTIFIER_TYPE_EMAIL, email), (identity_pb2.IDENTIFIER_TYPE_PHONE, phone),
        (identity_pb2.IDENTIFIER_TYPE_LOYALTY_CARD, loyalty_card), (identity_pb2.IDENTIFIER_TYPE_CRM_ID, crm_id),
    ) if value]
    if len(given) != 1:
        console.print("[red]give exactly one of --email, --phone, --loyalty-card, --crm-id[/red]")
        raise typer.Exit(2)
    kind, value = given[0]
    with _stub(address) as stub:
        request = profile_pb2.LookupProfileRequest(identifier=identity_pb2.Identifier(type=kind, value=value))
        console.print(render_profile(stub.LookupProfile(request).profile))


@profile_app.command()
def show(customer_id: CustomerId, address: Address = "") -> None:
    """Print the summary of a customer by id."""
    with _stub(address) as stub:
        console.print(render_profile(stub.GetProfile(profile_pb2.GetProfileRequest(customer_id=customer_id)).profile))


@profile_app.command()
def export(customer_id: CustomerId,
           output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here, not to stdout.")] = None,
           address: Address = "") -> None:
    """Everything held about a person, as JSON (GDPR access and portability)."""
    with _stub(address) as stub:
        exported = stub.ExportProfile(profile_pb2.ExportProfileRequest(customer_id=customer_id))
    if output is None:
        typer.echo(exported.json)
    else:
        output.write_text(exported.json, encoding="utf-8")
        console.print(f"wrote {output}")


@profile_app.command()
def erase(customer_id: CustomerId,
          yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
          address: Address = "") -> None:
    """Erase a person (GDPR Art. 17) everywhere. Cannot be undone."""
    if not yes and not typer.confirm(f"Erase customer {customer_id} from every service? This cannot be undone"):
        console.print("nothing erased")
        raise typer.Exit(1)
    with _stub(address) as stub:
        erased = stub.EraseProfile(profile_pb2.EraseProfileRequest(customer_id=customer_id))
    console.print(f"erased {erased.customer_id}; {erased.identifiers_suppressed} hashed identifiers kept so "
                  "they are not re-created")


def register(app: typer.Typer) -> None:
    """Add `declic profile …` to the main command."""
    app.add_typer(profile_app, name="profile")
