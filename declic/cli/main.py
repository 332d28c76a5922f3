"""`declic`: start the system, check it, and work with its services from the shell."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from declic.kit.config import SERVICES, ConfigError, load_settings
from declic.kit.supervisor import Supervisor
from declic.stack import Stack, forget_record, health_status, running_addresses, write_record

app = typer.Typer(help="Declic: trigger marketing over gRPC microservices.", no_args_is_help=True)
console = Console()

# Command groups contributed by services: each module defines register(app).
COMMAND_MODULES = ("declic.cli.ingest_commands", "declic.cli.profile_commands", "declic.cli.demo",
                   "declic.cli.dead_letter_commands", "declic.cli.recommend_commands",
                   "declic.cli.scenario_commands", "declic.cli.arbiter_commands")


def _settings():
    try:
        return load_settings()
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def status_table(addresses: dict[str, str]) -> tuple[Table, bool]:
    table = Table(title="Declic services")
    table.add_column("service")
    table.add_column("address")
    table.add_column("health")
    healthy = True
    for name, address in addresses.items():
        status = health_status(address)
        healthy &= status == "SERVING"
        colour = "green" if status == "SERVING" else "red"
        table.add_row(name, address, f"[{colour}]{status}[/{colour}]")
    return table, healthy


@app.command()
def status() -> None:
    """Print each service's gRPC health (exit code 1 unless all are SERVING).

    Asks the stack a `declic run` recorded under var/ when one is running, else the DECLIC_* addresses."""
    settings = _settings()
    addresses = running_addresses(settings.var_dir) or {name: settings.address(name) for name in SERVICES}
    table, healthy = status_table(addresses)
    console.print(table)
    raise typer.Exit(0 if healthy else 1)


@app.command()
def run() -> None:
    """Start the whole system (embedded default: bundled PostgreSQL and Redis under ./var). Ctrl-C stops it.

    A service that dies is started again, with backoff (its death is logged); only Ctrl-C stops the stack."""
    settings = _settings()
    stack = Stack(settings, log_dir=settings.var_dir / "logs")
    supervisor = Supervisor(grace=settings.grace_period_seconds + settings.drain_seconds + 5)
    logging.getLogger("declic.supervisor").addHandler(RichHandler(console=console, show_path=False))
    stopping = threading.Event()
    # Handle SIGINT explicitly too: a shell that starts us in the background leaves SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        started = time.monotonic()
        with console.status("starting PostgreSQL and Redis…"):
            stack.start_database_if_needed()
            stack.start_redis_if_needed()
        stack.supervise_all(supervisor)
        with console.status("starting the six services…"):
            stack.wait_serving(timeout=90)
        table, _ = status_table({name: settings.address(name) for name in SERVICES})
        console.print(table)
        write_record(stack)
        console.print(f"Up in {time.monotonic() - started:.1f} s. Logs in {stack.log_dir}. Press Ctrl-C to stop.")
        stopping.wait()
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        console.print("stopping…")
        forget_record(settings.var_dir)
        supervisor.stop_all()
        stack.stop_all()


@app.command()
def serve(name: str = typer.Argument(..., help=f"One of: {', '.join(SERVICES)}")) -> None:
    """Run one service in the foreground (what each Kubernetes pod runs)."""
    if name not in SERVICES:
        console.print(f"[red]unknown service {name!r}; choose one of {', '.join(SERVICES)}[/red]")
        raise typer.Exit(2)
    importlib.import_module(f"services.{name}.main").main()


for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register(app)


if __name__ == "__main__":
    app()
