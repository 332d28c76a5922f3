"""`declic recommend …`: train a model (progress bar), list and roll back versions over gRPC, and evaluate the
LightFM hybrid against baselines on the UCI and OTTO data (locally, with declic.recommending)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from declic.cli.connect import service_stub
from declic.recommend.v1 import recommend_pb2, recommend_pb2_grpc

console = Console()
recommend_app = typer.Typer(help="Train, evaluate, list and roll back recommendation models.", no_args_is_help=True)

Address = Annotated[str, typer.Option("--address", help="host:port of recommend (default: from DECLIC_* settings).")]


def _stub(address: str):  # type: ignore[no-untyped-def]
    return service_stub(recommend_pb2_grpc.RecommendServiceStub, "recommend", address)


def _info_table(models: list[recommend_pb2.ModelInfo], current: str) -> Table:
    table = Table(title="Recommendation models")
    for column in ("version", "status", "trained at", "data", "precision@10", "popularity", "users", "products",
                   "why refused"):
        table.add_column(column)
    for model in models:
        marker = " [green](current)[/green]" if model.version == current else ""
        window = f"{model.data_from.ToDatetime():%Y-%m-%d} → {model.data_to.ToDatetime():%Y-%m-%d}"
        table.add_row(model.version + marker, model.status, f"{model.trained_at.ToDatetime():%Y-%m-%d %H:%M}",
                      window, f"{model.metrics.get('precision_at_10', 0):.4f}",
                      f"{model.metrics.get('popularity_precision_at_10', 0):.4f}", str(model.users),
                      str(model.products), model.refusal)
    return table


@recommend_app.command()
def train(epochs: Annotated[int, typer.Option(help="Passes over the data (0: the service's setting).")] = 0,
          address: Address = "") -> None:
    """Train a model now: on the held-out split first (the guard compares it with the current model and with
    popularity), then on everything, and publish it unless the guard refuses (exit code 1, with the reason)."""
    with _stub(address) as stub, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                          TimeElapsedColumn(), console=console) as progress:
        tasks: dict[str, TaskID] = {}
        result = None
        for update in stub.TrainModel(recommend_pb2.TrainModelRequest(epochs=epochs)):
            if update.HasField("result"):
                result = update.result
                continue
            if update.phase not in tasks:
                label = "held-out fit" if update.phase == "holdout" else "final fit"
                tasks[update.phase] = progress.add_task(label, total=update.epochs_total)
            progress.update(tasks[update.phase], completed=update.epochs_done)
    if result is None:
        raise typer.Exit(1)
    console.print(_info_table([result], result.version if result.status == "published" else ""))
    if result.status != "published":
        console.print(f"[red]not published: {result.refusal}[/red]")
        raise typer.Exit(1)


@recommend_app.command()
def models(address: Address = "") -> None:
    """Every stored model, newest first, and which one answers."""
    with _stub(address) as stub:
        answer = stub.ListModels(recommend_pb2.ListModelsRequest())
    console.print(_info_table(list(answer.models), answer.current_version))


@recommend_app.command()
def rollback(version: Annotated[str, typer.Argument(help="A published version (see `declic recommend models`).")],
             address: Address = "") -> None:
    """Make an earlier model answer again; every replica switches on its next poll."""
    with _stub(address) as stub:
        model = stub.RollbackModel(recommend_pb2.RollbackModelRequest(version=version)).model
    console.print(f"model {model.version} (trained {model.trained_at.ToDatetime():%Y-%m-%d %H:%M}) is current again")


@recommend_app.command()
def evaluate(
    dataset: Annotated[str, typer.Option(help="uci (time split) or otto (views/carts → orders).")] = "uci",
    cut: Annotated[str, typer.Option(help="UCI: train before this date, test after.")] = "2011-09-01",
    epochs: Annotated[int, typer.Option(help="LightFM passes.")] = 0,
) -> None:
    """LightFM and the baselines (popularity, item-kNN, implicit ALS) trained on the same split, scored on the
    same customers: precision@10, recall@10, coverage."""
    from declic.recommending.suites import evaluate_dataset  # heavy (lightfm, implicit): only here

    if dataset not in ("uci", "otto"):
        console.print("[red]--dataset: uci or otto[/red]")
        raise typer.Exit(2)
    try:
        cut_at = datetime.fromisoformat(cut).replace(tzinfo=UTC)
    except ValueError:
        console.print("[red]--cut: a date, YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("LightFM epochs", total=None)
        report, title = evaluate_dataset(dataset, cut_at, epochs, lambda done, total: progress.update(
            task, completed=done, total=total))
    table = Table(title=title)
    for column in ("model", "precision@10", "recall@10", "coverage", "customers", "fit seconds"):
        table.add_column(column)
    for name, scores in report.scores.items():
        table.add_row(name, f"{scores.precision:.4f}", f"{scores.recall:.4f}", f"{scores.coverage:.3f}",
                      str(scores.users), f"{report.seconds[name]:.1f}")
    console.print(table)
    best, best_scores = report.best_baseline()
    lightfm = report.scores["lightfm"].precision
    ratio = lightfm / best_scores.precision if best_scores.precision else float("inf")
    console.print(f"served model (LightFM hybrid: 'lightfm' above) precision@10 = {ratio:.2f} × the best baseline "
                  f"({best}); 'lightfm_alone' is its LightFM part alone")


def register(app: typer.Typer) -> None:
    app.add_typer(recommend_app, name="recommend")
