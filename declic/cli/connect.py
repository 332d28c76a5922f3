"""How CLI commands reach a running service: its address, the client token, readable errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import grpc
import typer
from rich.console import Console

from declic.kit.channels import make_channel
from declic.kit.config import load_settings

Stub = TypeVar("Stub")
console = Console()


@contextmanager
def service_stub(stub_class: Callable[[grpc.Channel], Stub], service: str, address: str = "") -> Iterator[Stub]:
    """A stub on `service` (at `address`, or where the DECLIC_* settings say), presenting
    DECLIC_CLIENT_TOKEN when set; an RPC error becomes one red line and exit code 1."""
    settings = load_settings()
    channel = make_channel(address or settings.address(service), settings.client_token)
    try:
        yield stub_class(channel)
    except grpc.RpcError as exc:
        console.print(f"[red]{exc.code().name}: {exc.details()}[/red]")  # type: ignore[attr-defined]
        if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
            console.print(f"is {service} running? `declic status` shows each service; `make run` starts them.")
        elif exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):  # type: ignore[attr-defined]
            console.print("set DECLIC_CLIENT_TOKEN to a token with the scope named above (README, Authentication).")
        raise typer.Exit(1) from None
    finally:
        channel.close()
