"""`declic scenarios …`: validate the catalogue's files, list and show scenarios, dry-run an entry, pause,
resume, enter a customer by hand, trigger a campaign. Files are read here; everything else goes over gRPC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from declic.cli.connect import service_stub
from declic.kit.paging import every_item
from declic.profile.v1 import profile_pb2, profile_pb2_grpc
from declic.scenario.v1 import scenario_pb2, scenario_pb2_grpc
from declic.scenarios.dry_run import PastEntry, dry_run
from declic.scenarios.facts import profile_facts
from declic.scenarios.loader import load_catalogue, scenarios_dir

console = Console()
scenarios_app = typer.Typer(help="The scenario catalogue: validate, list, show, dry-run, pause, enter…",
                            no_args_is_help=True)
Address = Annotated[str, typer.Option("--address", help="host:port of scenario (default: from DECLIC_* settings).")]
Directory = Annotated[Path | None, typer.Option("--dir", help="Catalogue folder (default: DECLIC_SCENARIOS_DIR, "
                                                              "else the shipped catalogue).")]


def _stub(address: str):  # type: ignore[no-untyped-def]
    return service_stub(scenario_pb2_grpc.ScenarioServiceStub, "scenario", address)


def _state(enum, value: int, prefix: str) -> str:  # type: ignore[no-untyped-def]
    return enum.Name(value).removeprefix(prefix).lower().replace("_", " ")


@scenarios_app.command()
def validate(directory: Directory = None) -> None:
    """Load every scenario file; print each problem as file:line field: message. Exit 1 if any."""
    folder = directory or scenarios_dir()
    catalogue = load_catalogue(folder)
    for problems in catalogue.problems.values():
        for problem in problems:
            console.print(f"[red]{problem}[/red]", highlight=False)
    total = len(catalogue.scenarios) + len(catalogue.problems)
    console.print(f"{len(catalogue.scenarios)} of {total} scenario files valid in {folder}")
    raise typer.Exit(1 if catalogue.problems else 0)


@scenarios_app.command("list")
def list_scenarios(address: Address = "") -> None:
    """The scenarios the running service knows, with their state (valid, paused)."""
    table = Table()
    for column in ("id", "kind", "category", "priority", "state", "purpose"):
        table.add_column(column)
    with _stub(address) as stub:
        for s in every_item(stub.ListScenarios, scenario_pb2.ListScenariosRequest(), "scenarios"):
            state = "[red]invalid[/red]" if not s.valid else ("[yellow]paused[/yellow]" if s.paused else "active")
            kind = _state(scenario_pb2.ScenarioKind, s.kind, "SCENARIO_KIND_") if s.valid else ""
            table.add_row(s.scenario_id, kind, s.category, str(s.priority) if s.valid else "", state,
                          s.description or "; ".join(s.problems))
    console.print(table)


@scenarios_app.command()
def show(scenario_id: str, address: Address = "") -> None:
    """One scenario in words: trigger, re-entry, steps (or what is wrong with its file)."""
    with _stub(address) as stub:
        s = stub.GetScenario(scenario_pb2.GetScenarioRequest(scenario_id=scenario_id), timeout=10).scenario
    console.print(f"[bold]{s.scenario_id}[/bold] — {s.name}  ({s.file})", highlight=False)
    if not s.valid:
        for problem in s.problems:
            console.print(f"[red]{problem}[/red]", highlight=False)
        raise typer.Exit(1)
    console.print(s.description)
    console.print(f"kind {_state(scenario_pb2.ScenarioKind, s.kind, 'SCENARIO_KIND_')}, {s.category}, plan "
                  f"{s.plan or '—'}, priority {s.priority}, holdout {s.holdout_percent} %"
                  f"{', PAUSED' if s.paused else ''}")
    console.print(f"trigger: {s.trigger}\nre-entry: {s.re_entry}")
    for step in s.steps:
        console.print(f"  • {step}", highlight=False)


@scenarios_app.command("dry-run")
def dry_run_command(scenario_id: str, customer: Annotated[str, typer.Option("--customer", "-c")],
                    directory: Directory = None, address: Address = "",
                    profile_address: Annotated[str, typer.Option("--profile-address")] = "") -> None:
    """Would this customer enter SCENARIO_ID now (on its example event), and why or why not."""
    catalogue = load_catalogue(directory or scenarios_dir())
    scenario = catalogue.scenarios.get(scenario_id)
    if scenario is None:
        console.print(f"[red]no valid scenario {scenario_id!r}: "
                      f"{'; '.join(str(p) for p in catalogue.problems.get(f'{scenario_id}.yaml', [])) or 'no file'}"
                      "[/red]", highlight=False)
        raise typer.Exit(2)
    now = datetime.now(UTC)
    with service_stub(profile_pb2_grpc.ProfileServiceStub, "profile", profile_address) as profiles:
        found = profiles.GetProfile(profile_pb2.GetProfileRequest(customer_id=customer), timeout=10).profile
    with _stub(address) as stub:
        journeys = every_item(stub.ListJourneys, scenario_pb2.ListJourneysRequest(customer_id=customer), "journeys")
        past = [PastEntry(j.entry_key, _state(scenario_pb2.JourneyState, j.state, "JOURNEY_STATE_"),
                          j.entered_at.ToDatetime(tzinfo=UTC)) for j in journeys if j.scenario_id == scenario_id]
    verdict = dry_run(scenario, profile_facts(found, now), None, past, now, found.customer_id)
    console.print(f"{customer} {'[green]would enter[/green]' if verdict.enters else '[red]would not enter[/red]'} "
                  f"{scenario_id} now:", highlight=False)
    for reason in verdict.reasons:
        console.print(f"  • {reason}", highlight=False)
    for name, value in verdict.variables.items():
        console.print(f"  {name} = {value}", highlight=False)
    raise typer.Exit(0 if verdict.enters else 1)


@scenarios_app.command()
def pause(scenario_id: str, reason: Annotated[str, typer.Option("--reason")] = "", address: Address = "") -> None:
    """Pause a scenario: it starts no journey; its journeys hold where they are."""
    with _stub(address) as stub:
        stub.PauseScenario(scenario_pb2.PauseScenarioRequest(scenario_id=scenario_id, reason=reason), timeout=10)
    console.print(f"{scenario_id} paused")


@scenarios_app.command()
def resume(scenario_id: str, address: Address = "") -> None:
    """Resume a paused scenario."""
    with _stub(address) as stub:
        stub.ResumeScenario(scenario_pb2.ResumeScenarioRequest(scenario_id=scenario_id), timeout=10)
    console.print(f"{scenario_id} resumed")


@scenarios_app.command()
def enter(scenario_id: str, customer: Annotated[str, typer.Option("--customer", "-c")],
          key: Annotated[str, typer.Option("--key", help="Business key (an order id…).")] = "",
          reason: Annotated[str, typer.Option("--reason")] = "", address: Address = "") -> None:
    """Enter a customer into a scenario by hand (call center, back office)."""
    request = scenario_pb2.EnterCustomerRequest(scenario_id=scenario_id, customer_id=customer, business_key=key,
                                                reason=reason)
    with _stub(address) as stub:
        answer = stub.EnterCustomer(request, timeout=10)
    journey = answer.journey
    console.print(f"{'entered' if answer.entered else 'already there'}: journey {journey.journey_id} "
                  f"({_state(scenario_pb2.JourneyState, journey.state, 'JOURNEY_STATE_')}: {journey.detail})")


@scenarios_app.command()
def campaign(scenario_id: str, campaign_id: Annotated[str, typer.Option("--id", help="This run's id.")],
             address: Address = "") -> None:
    """Trigger a campaign scenario now: its segment enters, paced as the file says."""
    with _stub(address) as stub:
        answer = stub.TriggerCampaign(scenario_pb2.TriggerCampaignRequest(scenario_id=scenario_id,
                                                                          campaign_id=campaign_id), timeout=600)
    console.print(f"campaign {answer.campaign_id}: {answer.entered} customers entered")


@scenarios_app.command()
def journeys(customer: str, address: Address = "") -> None:
    """A customer's journeys: where each stands and why."""
    table = Table()
    for column in ("scenario", "state", "step", "due", "why"):
        table.add_column(column)
    with _stub(address) as stub:
        for j in every_item(stub.ListJourneys, scenario_pb2.ListJourneysRequest(customer_id=customer), "journeys"):
            due = j.due_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M") if j.HasField("due_at") else ""
            table.add_row(j.scenario_id, _state(scenario_pb2.JourneyState, j.state, "JOURNEY_STATE_"), j.step, due,
                          j.detail)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `declic scenarios …` to the main command."""
    app.add_typer(scenarios_app, name="scenarios")
