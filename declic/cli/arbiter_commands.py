"""`declic arbiter …` (why a firing was decided so, a person's pressure) and `declic policy validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from declic.arbiter.v1 import arbiter_pb2, arbiter_pb2_grpc
from declic.cli.connect import service_stub
from declic.common.v1 import identity_pb2
from declic.pressure.loader import PolicyError, load_policy

console = Console()
arbiter_app = typer.Typer(help="Why the arbiter decided, and a person's marketing pressure.", no_args_is_help=True)
policy_app = typer.Typer(help="Marketing-pressure policy files.", no_args_is_help=True)

Address = Annotated[str, typer.Option("--address", help="host:port of arbiter (default: from DECLIC_* settings).")]
DEFAULT_POLICY = Path("policies/pressure.yaml")


def _name(enum: object, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower() if value else "—"  # type: ignore[attr-defined]


def _stub(address: str):  # type: ignore[no-untyped-def]
    return service_stub(arbiter_pb2_grpc.ArbiterServiceStub, "arbiter", address)


@arbiter_app.command()
def explain(firing_id: Annotated[str, typer.Argument(help="The firing's id.")], address: Address = "") -> None:
    """The decision on one firing and every rule of the policy as it applied."""
    with _stub(address) as stub:
        decision = stub.GetDecision(arbiter_pb2.GetDecisionRequest(firing_id=firing_id)).decision
    verdict = _name(arbiter_pb2.Verdict, decision.verdict, "VERDICT_")
    console.print(f"[bold]{decision.firing_id}[/bold] for {decision.customer_id} (scenario {decision.scenario_id}): "
                  f"[bold]{verdict}[/bold] {_name(identity_pb2.Channel, decision.channel, 'CHANNEL_')}")
    console.print(decision.explanation)
    if decision.HasField("defer_until"):
        console.print(f"ask again at {decision.defer_until.ToDatetime():%Y-%m-%d %H:%M:%S} UTC")
    console.print(f"priority {decision.priority}, category {decision.category or '—'}, slot "
                  f"{_name(arbiter_pb2.SlotState, decision.slot, 'SLOT_STATE_')}, policy {decision.policy_version}")
    table = Table(title="Rules, in the order checked")
    for column in ("rule", "outcome", "detail"):
        table.add_column(column)
    for rule in decision.rules:
        outcome = _name(arbiter_pb2.RuleOutcome, rule.outcome, "RULE_OUTCOME_")
        colour = {"passed": "green", "blocked": "red", "deferred": "yellow"}.get(outcome, "white")
        table.add_row(rule.rule, f"[{colour}]{outcome}[/{colour}]", rule.detail)
    console.print(table)


@arbiter_app.command()
def pressure(customer_id: Annotated[str, typer.Argument(help="Customer id.")],
             timezone: Annotated[str, typer.Option(help="The person's IANA zone, for calendar windows.")] = "",
             address: Address = "") -> None:
    """A person's counters against every cap, their exclusion lists and cool-offs."""
    with _stub(address) as stub:
        found = stub.GetPressure(arbiter_pb2.GetPressureRequest(customer_id=customer_id, timezone=timezone))
    table = Table(title=f"Marketing pressure of {found.customer_id} (policy {found.policy_version})")
    for column in ("cap", "scope", "used", "limit", "window", "since"):
        table.add_column(column)
    for counter in found.counters:
        colour = "red" if counter.used >= counter.limit else "green"
        table.add_row(counter.rule, counter.scope, f"[{colour}]{counter.used}[/{colour}]", str(counter.limit),
                      counter.window, f"{counter.window_start.ToDatetime():%Y-%m-%d %H:%M} UTC")
    console.print(table)
    for exclusion in found.exclusions:
        until = f"{exclusion.expires_at.ToDatetime():%Y-%m-%d}" if exclusion.HasField("expires_at") else "removed"
        console.print(f"[red]excluded[/red] on {exclusion.list}: {exclusion.reason} (from {exclusion.source}) "
                      f"until {until}")
    for cool_off in found.cool_offs:
        channel = _name(identity_pb2.Channel, cool_off.channel, "CHANNEL_")
        console.print(f"[yellow]cool-off[/yellow] after a {cool_off.kind} on {channel} until "
                      f"{cool_off.until.ToDatetime():%Y-%m-%d %H:%M} UTC")
    if found.global_control_group:
        console.print("in the global control group: no marketing message at all")


@policy_app.command()
def validate(path: Annotated[Path, typer.Argument(help="The policy file.")] = DEFAULT_POLICY) -> None:
    """Check a pressure policy file: every problem as file:line field: message (exit code 1)."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]", highlight=False)
        raise typer.Exit(1) from None
    except OSError as exc:
        console.print(f"[red]{path}: {exc.strerror}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]{path}: valid[/green] — version {policy.version}, {len(policy.caps)} caps, "
                  f"{len(policy.scenarios)} scenario entries, holding window {policy.priority.holding_window}, "
                  f"order {policy.priority.order}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `declic arbiter …` and `declic policy …` to the main command."""
    app.add_typer(arbiter_app, name="arbiter")
    app.add_typer(policy_app, name="policy")
