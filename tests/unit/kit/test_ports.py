"""A bundled server never starts "on" a port another program holds: it says so, instead of its clients talking to the
stranger (two demos at once once made one demo replay into the other's Redis, then lose it when that one stopped)."""

from __future__ import annotations

import socket

import pytest

from declic.kit.ports import PortTaken, listening
from declic.kit.redis_client import start_embedded_redis
from tests.conftest import free_port


def test_listening_tells_a_held_port_from_a_free_one() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert listening(port)
    assert not listening(free_port())


def test_the_embedded_redis_refuses_a_port_another_program_holds(tmp_path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(PortTaken, match=f"port {port} \\(the embedded Redis\\) is already in use"):
            start_embedded_redis(tmp_path / "redis", port)
    assert not (tmp_path / "redis").exists()  # nothing started, nothing written
