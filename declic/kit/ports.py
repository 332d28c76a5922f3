"""Whether something already listens on a local port: the bundled servers and the demo's private stack check before
they start, instead of talking to a stranger that answers on the port they meant to take."""

from __future__ import annotations

import socket


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when a TCP connection to `host`:`port` is accepted (some program listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class PortTaken(RuntimeError):
    """A port a bundled server or the demo needs is held by another program."""

    def __init__(self, port: int, what: str, hint: str) -> None:
        super().__init__(f"port {port} ({what}) is already in use: {hint}")
        self.port = port
